import Foundation
import Postgres

/// The clock counts (schema.sql, `clock_counts`): the timeliness measures' figures per council, rule,
/// day, team and exception. A trigger on `deadlines` appends each write's net change to
/// `clock_count_changes` in the writer's transaction; `fold` moves the changes into `clock_counts`, so
/// the changes stay few. Readers sum both tables, so a figure is right whether or not a fold has run.
public struct ClockCounts: Sendable {
    public init() {}

    /// The counters, in table order after the key.
    static let key = "council_id, rule, counted_on, team, excepted, k20w"
    static let sums = "sum(clocks)::int, sum(within)::int, sum(request_days)::int, sum(over_52)::int"
    static let counted = key.split(separator: ", ").map { "c.\($0)" }.joined(separator: ", ")

    /// Folds the changes this connection sees (its council's under row-level security; every council's
    /// as the owner) into the counts, in one statement. One fold runs at a time: a second, in another
    /// instance's scheduler, finds the lock taken and folds nothing. A change still being written is not
    /// seen and waits for the next fold; nothing is counted twice, because a change is deleted in the
    /// statement that adds it to the counts.
    /// - Returns: the change rows folded.
    @discardableResult
    public func fold(on connection: PostgresConnection) throws(PostgresError) -> Int {
        try connection.query(
            """
            WITH turn AS (SELECT pg_try_advisory_xact_lock(\(Self.foldLock)) AS ours),
            moved AS (DELETE FROM clock_count_changes WHERE (SELECT ours FROM turn) RETURNING *),
            added AS (
                INSERT INTO clock_counts AS c (\(Self.key), clocks, within, request_days, over_52)
                SELECT \(Self.key), \(Self.sums) FROM moved GROUP BY \(Self.key)
                ON CONFLICT (\(Self.key)) DO UPDATE SET clocks = c.clocks + EXCLUDED.clocks, within = c.within + EXCLUDED.within,
                    request_days = c.request_days + EXCLUDED.request_days, over_52 = c.over_52 + EXCLUDED.over_52
                RETURNING 1)
            SELECT count(*)::int FROM moved
            """
        ).first?.decode(Int.self, at: 0) ?? 0
    }

    /// The advisory lock a fold holds for its transaction ("clockcnt" in ASCII).
    static let foldLock: Int64 = 0x636C_6F63_6B63_6E74

    /// Counts the clocks of cases whose deadline rows were written with the triggers off (a bulk load as
    /// a superuser, `session_replication_role = replica`), as the trigger would have.
    public func count(caseIds: [UUID], on connection: PostgresConnection) throws(PostgresError) {
        try connection.query(
            """
            INSERT INTO clock_count_changes (\(Self.key), clocks, within, request_days, over_52)
            SELECT \(Self.counted), \(Self.sums.replacingOccurrences(of: "sum(", with: "sum(c."))
            FROM deadlines d, LATERAL ehcp_clock_changes(ARRAY[d], 1) c
            WHERE d.case_id = ANY($1::uuid[])
            GROUP BY \(Self.counted)
            """, [PostgresArray(caseIds.map(\.postgresText))])
    }
}
