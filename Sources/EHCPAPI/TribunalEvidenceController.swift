import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// `GET /v1/cases/{caseId}/tribunal-evidence`: the evidence pack a council sends the Ombudsman or the
/// Tribunal about its compliance with an order (reg 44) or a conceded appeal (reg 45): each order, the
/// deadlines it set with their status and days late, and every step recorded on the case since the
/// first order, with when it happened, when it was recorded and by whom. JSON, or CSV with
/// `Accept: text/csv` (or `?format=csv`, for a link on the case page). It goes to third parties, so it
/// holds the case reference and each event's codes, dates and references only: never the child's
/// details, nor the free text people wrote (reasons), nor a correction's replaced data. A retracted or
/// corrected step says so.
public struct TribunalEvidenceController: Sendable {
    let deps: APIDependencies

    public init(deps: APIDependencies) { self.deps = deps }

    func register(on group: RouterGroup<APIContext>) {
        group.get("cases/:caseId/tribunal-evidence", use: evidence)
    }

    struct Deadline: Encodable {
        var rule: String
        var title: String
        var source: String
        var dueOn: CivilDate
        var status: DeadlineStatus
        var metOn: CivilDate?
        var daysLate: Int
    }

    struct Order: Encodable {
        var version: Int
        var occurredOn: CivilDate
        /// `order` (reg 44) or `conceded` (reg 45).
        var source: String
        /// The order, or the conceded appeal's type.
        var type: String
        var deadlines: [Deadline]
    }

    struct Step: Encodable {
        var version: Int
        var occurredOn: String
        var recordedAt: Date
        var actor: String
        var type: String
        var data: JSONValue
        /// The versions of the corrections of this step, and of its retraction.
        var correctedBy: [Int]?
        var retractedBy: Int?
    }

    /// The fields of event data that are codes, dates or references: everything else (a reason, a
    /// correction's new data, a child's id) stays out of the pack.
    static let sharedFields: Set<String> = [
        "adviceId", "adviceType", "provider", "receivedByProviderOn", "consultationId", "setting", "response", "namedSetting", "exceptionId",
        "ground", "rules", "from", "to", "reviewId", "decision", "transferYear", "kind", "transferOn", "fromAuthority", "toAuthority", "moveOn",
        "lastReviewedOn", "planMadeOn", "appealType", "order", "caseworker", "team", "targetVersion", "occurredOn", "rule", "dueOn", "key",
        "daysBefore", "requestSource",
    ]

    struct Evidence: Encodable {
        var caseId: UUID
        var reference: String
        var asOf: CivilDate
        var orders: [Order]
        var steps: [Step]
    }

    @Sendable public func evidence(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let caseId = try CaseRequests.caseId(context)
        let caller = deps.caller(user, context)
        guard let found = try await deps.cases.show(caseId, for: caller) else { throw Problem.notFound("caseId", caseId.lowercased) }
        let stored = try await deps.cases.timeline(caseId, for: caller)
        let evidence = try Self.build(
            caseId: caseId, reference: found.reference, state: found.state, stored: stored, engine: deps.engine, today: deps.today())
        guard ReportsController.wantsCSV(request) || request.uri.queryParameters["format"] == "csv" else {
            return JSONOutput.response(evidence)
        }
        return ReportsController.csv(Self.csv(evidence), filename: "tribunal-evidence-\(found.reference).csv")
    }

    static func build(
        caseId: UUID, reference: String, state: CaseState, stored: [StoredEvent], engine: DeadlineEngine, today: CivilDate
    ) throws -> Evidence {
        let deadlines = state.deadlines(engine, asOf: today).deadlines
        var orders: [Order] = []
        for recorded in state.effective {
            let (source, type): (String, String)
            switch recorded.event {
            case .tribunalOrderMade(let made): (source, type) = ("order", made.order.rawValue)
            case .appealConceded(let appeal): (source, type) = ("conceded", appeal.appealType.rawValue)
            default: continue
            }
            let set = deadlines.filter { $0.startVersion == recorded.version && TribunalOrdersReport.origin(of: $0.rule) != nil }.map {
                Deadline(
                    rule: $0.rule.rawValue, title: $0.rule.title, source: $0.rule.source, dueOn: $0.dueOn, status: $0.status, metOn: $0.metOn,
                    daysLate: [.open, .cancelled].contains($0.status) ? 0 : max(0, $0.dueOn.days(until: $0.metOn ?? $0.movedPastOn ?? today)))
            }
            orders.append(Order(version: recorded.version, occurredOn: recorded.occurredOn, source: source, type: type, deadlines: set))
        }
        let since = orders.map(\.occurredOn).min()?.description
        let timeline = try TimelineController.build(caseId: caseId, stored: stored).events
        let steps = timeline.filter { entry in since.map { entry.occurredOn >= $0 } ?? false }.map { entry in
            let fields = entry.data.objectValue?.filter { Self.sharedFields.contains($0.key) } ?? [:]
            return Step(
                version: entry.version, occurredOn: entry.occurredOn, recordedAt: entry.recordedAt, actor: entry.actor, type: entry.type,
                data: .object(fields), correctedBy: entry.correctedBy, retractedBy: entry.retractedBy)
        }
        return Evidence(caseId: caseId, reference: reference, asOf: today, orders: orders, steps: steps)
    }

    /// One line per deadline, then one per step, in one table.
    static func csv(_ evidence: Evidence) -> String {
        let iso = ISO8601DateFormatter()
        let deadlineRows: [[String?]] = evidence.orders.flatMap { order in
            order.deadlines.map {
                [
                    "deadline", String(order.version), order.occurredOn.description, nil, nil, "\(order.source) \(order.type)", $0.rule,
                    $0.dueOn.description, $0.status.rawValue, $0.metOn?.description, String($0.daysLate),
                ]
            }
        }
        let stepRows: [[String?]] = evidence.steps.map {
            ["step", String($0.version), $0.occurredOn, iso.string(from: $0.recordedAt), $0.actor, $0.type, nil, nil, nil, nil, nil]
        }
        return CSV.render(
            header: ["section", "version", "occurredOn", "recordedAt", "actor", "what", "rule", "dueOn", "status", "metOn", "daysLate"],
            rows: deadlineRows + stepRows)
    }
}
