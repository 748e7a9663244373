import Foundation
import Postgres

/// The counts the reports sum instead of reading every case (schema.sql): `clock_counts`, the timeliness
/// measures' clocks per council, rule, day, team and exception, and `duty_counts`, the breach report's
/// unmet and missed duties, both kept from `deadlines`; and `case_counts`, the caseload report's cases
/// per council, kind and day, and `dfe_counts`, the DfE's measures per council, year and birth cohort,
/// both kept from `case_summary` (and the latter from `children` too). A statement trigger
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
        /// Counts that most keys reach in time (every duty of a day met), which a fold deletes.
        var empty: String? = nil
    }

    static let clocks = Counts(
        table: "clock_counts", changes: "clock_count_changes", key: ["council_id", "rule", "counted_on", "team", "excepted", "k20w"],
        counters: ["clocks", "within", "request_days", "over_52"], function: "ehcp_clock_changes", source: "deadlines")
    static let duties = Counts(
        table: "duty_counts", changes: "duty_count_changes",
        key: ["council_id", "status", "due_on", "moved_past_on", "rule", "started_on", "team", "caseworker", "excepted"], counters: ["duties"],
        function: "ehcp_duty_changes", source: "deadlines", empty: "duties = 0")
    static let cases = Counts(
        table: "case_counts", changes: "case_count_changes", key: ["council_id", "kind", "counted_on"], counters: ["cases"],
        function: "ehcp_case_changes", source: "case_summary")

    static let dfe = Counts(
        table: "dfe_counts", changes: "dfe_count_changes", key: ["council_id", "year", "cohort"],
        counters: [
            "placed", "unplaced", "expected", "completed", "amended", "maintained", "ceased", "within_4w", "meetings", "decided_within",
            "decided_later", "school_due", "school_final", "post16_due", "post16_final",
        ], function: "ehcp_dfe_changes", source: "case_summary")
    static let all = [clocks, duties, cases, dfe]

    /// Folds the changes this connection sees (its council's under row-level security; every council's
    /// as the owner) into the counts, one statement per table. One fold a council runs at a time, and
    /// none beside the owner's fold of every council: a fold that finds its lock taken (another instance's
    /// scheduler, a rebuild) folds nothing, and the next one does. A change still being written is not
    /// seen and waits for the next fold; nothing is counted twice, because a change is deleted in the
    /// statement that adds it to the counts.
    /// - Returns: the change rows folded.
    @discardableResult
    public func fold(on connection: PostgresConnection) throws(PostgresError) -> Int {
        var folded = 0
        for counts in Self.all {
            let key = counts.key.joined(separator: ", ")
            let counters = counts.counters.joined(separator: ", ")
            folded +=
                try connection.query(
                    """
                    WITH turn AS (SELECT \(Self.turn) AS ours),
                    moved AS (DELETE FROM \(counts.changes) WHERE (SELECT ours FROM turn) RETURNING *),
                    added AS (
                        INSERT INTO \(counts.table) AS c (\(key), \(counters))
                        SELECT \(key), \(counts.counters.map { "sum(\($0))::int" }.joined(separator: ", ")) FROM moved GROUP BY \(key)
                        ON CONFLICT (\(key)) DO UPDATE SET \(counts.counters.map { "\($0) = c.\($0) + EXCLUDED.\($0)" }.joined(separator: ", "))
                        RETURNING 1)
                    SELECT count(*)::int FROM moved
                    """
                ).first?.decode(Int.self, at: 0) ?? 0
            if let empty = counts.empty {
                // After the statement above, so that it sees the counts it brought to zero.
                try connection.query("DELETE FROM \(counts.table) WHERE \(empty) AND (SELECT \(Self.turn))")
            }
        }
        return folded
    }

    /// The advisory locks a fold holds for its transaction: the owner's fold of every council takes
    /// "count" alone; a council's fold shares it and takes "count" with its council. Counts of two
    /// councils never share a row, so their folds may run together.
    static let turn = """
        CASE WHEN ehcp_council() IS NULL THEN pg_try_advisory_xact_lock(\(foldLock))
             ELSE pg_try_advisory_xact_lock_shared(\(foldLock)) AND pg_try_advisory_xact_lock(\(foldLock), hashtext(ehcp_council()::text)) END
        """
    /// "count" in ASCII.
    static let foldLock: Int32 = 0x636F_756E

    /// Counts the rows of cases written with the triggers off (a bulk load as a superuser,
    /// `session_replication_role = replica`), as the triggers would have.
    public func count(caseIds: [UUID], on connection: PostgresConnection) throws(PostgresError) {
        for counts in Self.all {
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
