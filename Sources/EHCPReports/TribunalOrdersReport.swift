import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Whether councils comply with tribunal orders (reg 44) and with appeals they conceded (reg 45): every
/// clock such an order or concession started in a period, with its deadline, status as of a day and
/// days late, and totals by order type and year. Compliance is "not held centrally"; this holds it.
public struct TribunalOrdersReport: Sendable {
    /// What started a clock: an order of the First-tier Tribunal, or the council conceding an appeal.
    public static func origin(of rule: RuleID) -> (source: String, type: String)? {
        switch rule {
        case .orderAssessNotify2W, .orderAssessNoPlan10W, .orderAssessFinal14W: ("order", "assess")
        case .orderPlanDraft5W, .orderPlanFinal11W: ("order", "makePlan")
        case .orderAmend5W: ("order", "amendNeedsProvision")
        case .orderPlacement2W: ("order", "amendPlacement")
        case .orderCease: ("order", "cease")
        case .unopposedAssessNotify2W, .unopposedAssessNoPlan10W, .unopposedAssessFinal14W: ("conceded", "refusalToAssess")
        case .unopposedPlanDraft5W, .unopposedPlanFinal11W: ("conceded", "refusalToIssue")
        case .unopposedAmend5W: ("conceded", "planContents")
        case .unopposedPlacement2W: ("conceded", "placement")
        default: nil
        }
    }

    static let rules = RuleID.allCases.filter { origin(of: $0) != nil }

    public struct Row: Sendable, Hashable, Codable {
        public var caseId: UUID
        public var reference: String
        /// `order` (reg 44) or `conceded` (reg 45).
        public var source: String
        /// The order (`assess`, `makePlan`, …) or the conceded appeal's type.
        public var type: String
        public var orderedOn: String
        public var rule: String
        public var dueOn: String
        /// As of the report's day (docs/rules.md, "Statuses").
        public var status: String
        public var metOn: String?
        /// Days past the due date when it was met, or as of the day while unmet (or when missed); 0 when on time.
        public var daysLate: Int
    }

    public struct Total: Sendable, Hashable, Codable {
        public var source: String
        public var type: String
        public var year: Int
        public var deadlines = 0
        public var metOnTime = 0
        public var metLate = 0
        public var overdue = 0
        public var missed = 0
        public var open = 0
        public var cancelledOrExcepted = 0
    }

    public struct Result: Sendable, Hashable, Codable {
        public var from: CivilDate
        public var to: CivilDate
        public var asOf: CivilDate
        public var rows: [Row]
        public var totals: [Total]
    }

    public init() {}

    /// Every order's and concession's clocks started from `from` to `to` (and by `asOf`), each as it stood on
    /// `asOf`: one met or missed later was still unmet then.
    public func run(from: CivilDate, to: CivilDate, asOf: CivilDate, on connection: PostgresConnection) throws(PostgresError) -> Result {
        let rows = try connection.query(
            """
            SELECT d.case_id, s.reference, d.rule, d.started_on::text, d.due_on::text,
                   CASE WHEN d.met_on <= $3::date OR d.moved_past_on <= $3::date OR d.status = 'cancelled' THEN d.status
                        WHEN $3::date <= d.due_on THEN 'open' WHEN d.excepted THEN 'excepted' ELSE 'breached' END,
                   CASE WHEN d.met_on <= $3::date THEN d.met_on::text END,
                   greatest(0, coalesce(CASE WHEN d.met_on <= $3::date THEN d.met_on END,
                                        CASE WHEN d.moved_past_on <= $3::date THEN d.moved_past_on END, $3::date) - d.due_on)
            FROM deadlines d JOIN case_summary s USING (case_id)
            WHERE d.rule = ANY($4::text[]) AND d.started_on BETWEEN $1::date AND $2::date AND d.started_on <= $3::date
            ORDER BY d.started_on, s.reference, d.due_on, d.rule
            """, [from.description, to.description, asOf.description, PostgresArray(Self.rules.map(\.rawValue))]
        ).rows.map { row throws(PostgresError) -> Row in
            let rule: String = try row.decode(at: 2)
            let origin = RuleID(rawValue: rule).flatMap(Self.origin(of:)) ?? ("order", "unknown")
            let status: String = try row.decode(at: 5)
            return Row(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), source: origin.source, type: origin.type,
                orderedOn: try row.decode(at: 3), rule: rule, dueOn: try row.decode(at: 4), status: status, metOn: try row.decodeIfPresent(at: 6),
                daysLate: ["open", "cancelled"].contains(status) ? 0 : try row.decode(at: 7))
        }
        var totals: [String: Total] = [:]
        for row in rows {
            let year = Int(row.orderedOn.prefix(4)) ?? 0
            let key = "\(row.source) \(row.type) \(year)"
            var total = totals[key] ?? Total(source: row.source, type: row.type, year: year)
            total.deadlines += 1
            switch row.status {
            case "met": total.metOnTime += 1
            case "metLate": total.metLate += 1
            case "breached": total.overdue += 1
            case "missed": total.missed += 1
            case "open": total.open += 1
            default: total.cancelledOrExcepted += 1
            }
            totals[key] = total
        }
        return Result(
            from: from, to: to, asOf: asOf, rows: rows,
            totals: totals.values.sorted { ($0.year, $0.source, $0.type) < ($1.year, $1.source, $1.type) })
    }
}

extension TribunalOrdersReport.Result {
    public var csv: String {
        CSV.render(
            header: ["reference", "source", "type", "orderedOn", "rule", "dueOn", "status", "metOn", "daysLate", "caseId"],
            rows: rows.map {
                [
                    $0.reference, $0.source, $0.type, $0.orderedOn, $0.rule, $0.dueOn, $0.status, $0.metOn, String($0.daysLate),
                    $0.caseId.uuidString.lowercased(),
                ]
            })
    }
}
