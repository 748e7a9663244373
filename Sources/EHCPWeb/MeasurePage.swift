import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// One measure over a period, grouped by month, team, caseworker, advice type or provider: the API's
/// `GET /v1/reports/timeliness` as a table, each figure linked to the cases behind it.
struct MeasurePage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Row {
        var group: String
        var percent: String
        var counts: String
        var target: String
        var href: String
    }
    struct View {
        var layout: Layout
        var measures: [Option]
        var groupings: [Option]
        var fromDay: String
        var fromMonth: String
        var fromYear: String
        var toDay: String
        var toMonth: String
        var toYear: String
        var title: String
        var period: String
        var rows: [Row]
        var total: Row
        var isEmpty: Bool
    }

    static let groupings: [(Grouping, String)] = [
        (.month, "Month"), (.team, "Team"), (.caseworker, "Caseworker"), (.adviceType, "Advice type"), (.provider, "Advice provider"),
    ]

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = request.uri.queryParameters
        let measure = parameters["measure"].flatMap { Measure(rawValue: String($0)) } ?? .final20W
        let grouping =
            parameters["groupBy"].flatMap { Grouping(rawValue: String($0)) }.flatMap { g in Self.groupings.contains { $0.0 == g } ? g : nil }
            ?? .month
        let to = DashboardPage.date(request, "to") ?? deps.today()
        let from = DashboardPage.date(request, "from").map { min($0, to) } ?? TimelinessReport.Query.defaultFrom(to: to)
        let query = TimelinessReport.Query(measure: measure, from: from, to: to, grouping: grouping)
        let result = try await deps.reports.timeliness(query, council: user.councilId)
        func row(_ row: TimelinessReport.Row, group: String?) -> Row {
            var href = "/reports/cases?measure=\(measure.rawValue)&from=\(from)&to=\(to)&groupBy=\(grouping.rawValue)"
            if let group { href += "&group=" + (group.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "") }
            return Row(
                group: group.map { grouping == .month ? DashboardPage.monthName($0) : $0 } ?? "All", percent: DashboardPage.percent(row),
                counts: "\(row.numerator) of \(row.denominator)", target: row.target.map { DashboardPage.number($0) + "%" } ?? "", href: href)
        }
        let view = View(
            layout: Layout(title: "Timeliness by group", session: context.sessions.session, current: "/dashboard", backLink: "/dashboard"),
            measures: Measure.allCases.map { Option(value: $0.rawValue, text: DashboardPage.describe($0).title, selected: $0 == measure) },
            groupings: Self.groupings.map { Option(value: $0.0.rawValue, text: $0.1, selected: $0.0 == grouping) },
            fromDay: String(from.day), fromMonth: String(from.month), fromYear: String(from.year), toDay: String(to.day), toMonth: String(to.month),
            toYear: String(to.year), title: DashboardPage.describe(measure).title, period: "\(from.long) to \(to.long)",
            rows: result.rows.map { row($0, group: $0.group) }, total: row(result.total, group: nil), isEmpty: result.rows.isEmpty)
        return pages.render("measure", view)
    }
}
