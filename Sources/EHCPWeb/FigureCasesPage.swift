import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// The cases behind a figure of the dashboard: the same query as `GET /v1/reports/timeliness/cases`,
/// each row linked to its case page.
struct FigureCasesPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Row {
        var href: String
        var reference: String
        var rule: String
        var startedOn: String
        var dueOn: String
        var metOn: String
        var tag: Tag
    }
    struct View {
        var layout: Layout
        var title: String
        var scope: String
        var rows: [Row]
        var isEmpty: Bool
        var within: Int
        var total: Int
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = request.uri.queryParameters
        guard let measure = parameters["measure"].flatMap({ Measure(rawValue: String($0)) }) else { throw Problem.notFound("measure", "") }
        let to = DashboardPage.date(request, "to") ?? deps.today()
        let from = DashboardPage.date(request, "from").map { min($0, to) } ?? TimelinessReport.Query.defaultFrom(to: to)
        let grouping = parameters["groupBy"].flatMap { Grouping(rawValue: String($0)) } ?? .month
        let group = parameters["group"].map(String.init)
        let query = TimelinessReport.Query(measure: measure, from: from, to: to, grouping: grouping)
        let rows = try await deps.reports.trace(query, group: group, council: user.councilId)
        let (title, _) = DashboardPage.describe(measure)
        let view = View(
            layout: Layout(title: "Cases behind a figure", session: context.sessions.session, backLink: "/dashboard"), title: title,
            scope: group.map { grouping == .month ? "In \(DashboardPage.monthName($0))" : "\($0), \(query.from.long) to \(to.long)" }
                ?? "From \(query.from.long) to \(to.long)",
            rows: rows.map { row in
                Row(
                    href: "/cases/\(row.caseId.uuidString.lowercased())", reference: row.reference,
                    rule: (RuleID(rawValue: row.rule)?.title ?? row.rule) + (row.key.map { " (\($0))" } ?? ""),
                    startedOn: CivilDate(iso: row.startedOn)?.long ?? row.startedOn, dueOn: CivilDate(iso: row.dueOn)?.long ?? row.dueOn,
                    metOn: row.metOn.flatMap { CivilDate(iso: $0)?.long } ?? "Not yet",
                    tag: row.within ? Tag(text: "On time", colour: "green") : Tag(text: "Not on time", colour: "red"))
            }, isEmpty: rows.isEmpty, within: rows.filter(\.within).count, total: rows.count)
        return pages.render("figure-cases", view)
    }
}
