import Foundation
import Postgres

/// The counts the reports sum instead of reading every case (schema.sql): `clock_counts`, the timeliness
/// measures' clocks per council, rule, day, team and exception, kept from `deadlines`; and `case_counts`,
/// the caseload report's cases per council, kind and day, kept from `case_summary`. A statement trigger
/// on each source table appends every write's net change to the counts' changes table in the writer's
/// transaction; `fold` moves the changes into the counts, so the changes stay few. Readers sum both
/// tables, so a figure is right whether or not a fold has run.
public struct ReportCounts: Sendable {
    public init() {}

    /// A counts table, its changes, the columns that identify a count and the counters.
    struct Counts {
        var table: String
        var changes: String
        var key: [String]
        var counters: [String]
        /// The function that turns source rows into changes, and the source table.
        var function: String
        var source: String
    }

    static let clocks = Counts(
        table: "clock_counts", changes: "clock_count_changes", key: ["council_id", "rule", "counted_on", "team", "excepted", "k20w"],
        counters: ["clocks", "within", "request_days", "over_52"], function: "ehcp_clock_changes", source: "deadlines")
    static let cases = Counts(
        table: "case_counts", changes: "case_count_changes", key: ["council_id", "kind", "counted_on"], counters: ["cases"],
        function: "ehcp_case_changes", source: "case_summary")

    /// Folds the changes this connection sees (its council's under row-level security; every council's
    /// as the owner) into the counts, one statement per table. One fold runs at a time: a second, in another
    /// instance's scheduler, finds the lock taken and folds nothing. A change still being written is not
    /// seen and waits for the next fold; nothing is counted twice, because a change is deleted in the
    /// statement that adds it to the counts.
    /// - Returns: the change rows folded.
    @discardableResult
    public func fold(on connection: PostgresConnection) throws(PostgresError) -> Int {
        var folded = 0
        for counts in [Self.clocks, Self.cases] {
            let key = counts.key.joined(separator: ", ")
            let counters = counts.counters.joined(separator: ", ")
            folded +=
                try connection.query(
                    """
                    WITH turn AS (SELECT pg_try_advisory_xact_lock(\(Self.foldLock)) AS ours),
                    moved AS (DELETE FROM \(counts.changes) WHERE (SELECT ours FROM turn) RETURNING *),
                    added AS (
                        INSERT INTO \(counts.table) AS c (\(key), \(counters))
                        SELECT \(key), \(counts.counters.map { "sum(\($0))::int" }.joined(separator: ", ")) FROM moved GROUP BY \(key)
                        ON CONFLICT (\(key)) DO UPDATE SET \(counts.counters.map { "\($0) = c.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
                        RETURNING 1)
                    SELECT count(*)::int FROM moved
                    """
                ).first?.decode(Int.self, at: 0) ?? 0
        }
        return folded
    }

    /// The advisory lock a fold holds for its transaction ("clockcnt" in ASCII).
    static let foldLock: Int64 = 0x636C_6F63_6B63_6E74

    /// Counts the rows of cases written with the triggers off (a bulk load as a superuser,
    /// `session_replication_role = replica`), as the triggers would have.
    public func count(caseIds: [UUID], on connection: PostgresConnection) throws(PostgresError) {
        for counts in [Self.clocks, Self.cases] {
            let key = counts.key.map { "c.\($0)" }.joined(separator: ", ")
            try connection.query(
                """
                INSERT INTO \(counts.changes) (\(counts.key.joined(separator: ", ")), \(counts.counters.joined(separator: ", ")))
                SELECT \(key), \(counts.counters.map { "sum(c.\($0))::int" }.joined(separator: ", "))
                FROM \(counts.source) r, LATERAL \(counts.function)(ARRAY[r], 1) c
                WHERE r.case_id = ANY($1::uuid[])
                GROUP BY \(key)
                """, [PostgresArray(caseIds.map(\.postgresText))])
        }
    }
}
