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

    public func run(from: CivilDate, to: CivilDate, census: CivilDate, on connection: PostgresConnection) throws(PostgresError) -> Result {
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
