import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// The counts of §5: requests, refusals, assessments, plans, active plans at a census date, cessations by
/// SEN2 reason, mediations and appeals, for a period.
public struct CaseloadReport: Sendable {
    public struct Result: Sendable, Hashable, Codable {
        public var from: CivilDate
        public var to: CivilDate
        public var census: CivilDate
        public var requestsReceived: Int
        public var refused: Int
        public var assessed: Int
        public var assessedNoPlan: Int
        public var plansIssued: Int
        public var activePlans: Int
        public var plansCeased: Int
        public var ceasedByReason: [String: Int]
        public var mediations: Int
        public var appeals: Int
    }

    public init() {}

    /// The counts, from the caseload counts (schema.sql, `case_counts`): a few thousand rows however many
    /// cases the council holds. Equal to `direct` (ReportCountTests).
    public func run(from: CivilDate, to: CivilDate, census: CivilDate, on connection: PostgresConnection) throws(PostgresError) -> Result {
        var counts: [String: Int] = [:]
        for row in try connection.query(
            """
            SELECT k.kind, sum(k.cases)::int
            FROM (SELECT * FROM case_counts UNION ALL SELECT * FROM case_count_changes) k
            WHERE CASE WHEN k.kind IN ('planMade', 'planEnded') THEN k.counted_on <= $3::date ELSE k.counted_on BETWEEN $1::date AND $2::date END
            GROUP BY k.kind
            """, [from.description, to.description, census.description]
        ).rows {
            counts[try row.decode(String.self, at: 0)] = try row.decode(Int.self, at: 1)
        }
        let reasons = counts.filter { $0.key.hasPrefix("ceased:") && $0.value != 0 }.map { (String($0.key.dropFirst("ceased:".count)), $0.value) }
        return Result(
            from: from, to: to, census: census, requestsReceived: counts["requested", default: 0], refused: counts["refused", default: 0],
            assessed: counts["assessed", default: 0], assessedNoPlan: counts["noPlan", default: 0], plansIssued: counts["firstPlan", default: 0],
            activePlans: counts["planMade", default: 0] - counts["planEnded", default: 0], plansCeased: counts["ceased", default: 0],
            ceasedByReason: Dictionary(reasons, uniquingKeysWith: +), mediations: counts["mediation", default: 0],
            appeals: counts["appeal", default: 0])
    }

    /// The same counts read from every case's summary.
    func direct(from: CivilDate, to: CivilDate, census: CivilDate, on connection: PostgresConnection) throws(PostgresError) -> Result {
        let row = try connection.query(
            """
            SELECT
                count(*) FILTER (WHERE opened_by = 'RequestReceived' AND opened_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE assessed = false AND decided_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE assessed = true AND decided_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE no_plan_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE first_plan_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE plan_made_on <= $3 AND (ceased_on IS NULL OR ceased_on > $3) AND stage <> 'transferredOut'),
                count(*) FILTER (WHERE ceased_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE first_mediation_on BETWEEN $1 AND $2),
                count(*) FILTER (WHERE first_appeal_on BETWEEN $1 AND $2)
            FROM case_summary
            """, [from.description, to.description, census.description]
        ).first!
        let reasons = try connection.query(
            "SELECT coalesce(ceased_reason::text, 'unknown'), count(*) FROM case_summary WHERE ceased_on BETWEEN $1 AND $2 GROUP BY 1 ORDER BY 1",
            [from.description, to.description]
        ).rows.map { row throws(PostgresError) in (try row.decode(String.self, at: 0), try row.decode(Int.self, at: 1)) }
        return Result(
            from: from, to: to, census: census, requestsReceived: try row.decode(at: 0), refused: try row.decode(at: 1),
            assessed: try row.decode(at: 2),
            assessedNoPlan: try row.decode(at: 3), plansIssued: try row.decode(at: 4), activePlans: try row.decode(at: 5),
            plansCeased: try row.decode(at: 6),
            ceasedByReason: Dictionary(reasons, uniquingKeysWith: +), mediations: try row.decode(at: 7), appeals: try row.decode(at: 8))
    }
}
