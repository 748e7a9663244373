import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Cases: search by the child's name or the case reference, filter by stage, caseworker, team and
/// overdue, a page of 25 at a time. The same query as `GET /v1/cases`, and the same access log.
///
/// The search is a POST form, and its next page a button in one: a child's name must never be in a URL,
/// where browser history and proxies' logs would keep it.
struct CasesPage: Sendable {
    let deps: APIDependencies
    let pages: Pages
    static let pageSize = 25

    struct Row {
        var href: String
        var reference: String
        var childName: String
        var stage: String
        var caseworker: String
        var nextDue: String
    }
    struct View {
        var layout: Layout
        var q: String
        var caseworker: String
        var team: String
        var overdue: Bool
        var stages: [Option]
        var rows: [Row]
        var isEmpty: Bool
        var searched: Bool
        var next: String?
        var formToken: String
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        return try await page(WebForm(), user: user, context: context)
    }

    @Sendable func search(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let form = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        return try await page(form, user: user, context: context)
    }

    private func page(_ form: WebForm, user: AuthenticatedUser, context: APIContext) async throws -> Response {
        func value(_ name: String) -> String? { form.text(name).map { String($0.prefix(100)) } }
        var filter = CaseQueries.Filter()
        filter.text = value("q")
        filter.caseworker = value("caseworker")
        filter.team = value("team")
        filter.stage = value("stage").flatMap { CaseStage(rawValue: $0)?.rawValue }
        filter.overdue = form["overdue"] == "yes"
        filter.limit = Self.pageSize
        filter.after = value("after")
        let items = try await deps.cases.list(filter, today: deps.today(), for: deps.caller(user, context))
        let rows = items.map { item in
            Row(
                href: "/cases/\(item.caseId.uuidString.lowercased())", reference: item.reference, childName: item.childName ?? "Not recorded",
                stage: Self.stageName(item.stage), caseworker: item.caseworker ?? "Not assigned",
                nextDue: item.nextDueOn.flatMap { CivilDate(iso: $0)?.long } ?? "Nothing due")
        }
        let view = View(
            layout: Layout(title: "Cases", session: context.sessions.session, current: "/cases"), q: filter.text ?? "",
            caseworker: filter.caseworker ?? "", team: filter.team ?? "", overdue: filter.overdue,
            stages: [Option(value: "", text: "Any stage", selected: filter.stage == nil)]
                + CaseStage.allCases.map { Option(value: $0.rawValue, text: Self.stageName($0.rawValue), selected: filter.stage == $0.rawValue) },
            rows: rows, isEmpty: rows.isEmpty,
            searched: filter.text != nil || filter.caseworker != nil || filter.team != nil || filter.stage != nil || filter.overdue,
            next: items.count == Self.pageSize ? items.last?.reference : nil, formToken: context.sessions.session?.formToken ?? "")
        return pages.render("cases", view)
    }

    /// A stage in words.
    static func stageName(_ stage: String) -> String {
        switch CaseStage(rawValue: stage) {
        case .awaitingDecision: "Awaiting decision to assess"
        case .assessment: "Being assessed"
        case .draftPlan: "Draft plan issued"
        case .refused: "Not assessed"
        case .noPlan: "No plan issued"
        case .planMaintained: "Plan maintained"
        case .reassessment: "Being reassessed"
        case .withdrawn: "Request withdrawn"
        case .ceased: "Plan ceased"
        case .transferredOut: "Moved to another council"
        case nil: stage
        }
    }
}
