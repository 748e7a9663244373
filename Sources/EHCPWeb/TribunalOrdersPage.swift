import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// Whether the council complies with tribunal orders (reg 44) and appeals it conceded (reg 45): totals by
/// type and year, then every deadline with its status and days late, and the API's CSV
/// (`TribunalOrdersReport`, docs/reports.md). Each case links to its page and evidence pack.
struct TribunalOrdersPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Total {
        var what: String
        var year: Int
        var deadlines: Int
        var onTime: Int
        var late: Int
        var overdue: Int
        var missed: Int
        var open: Int
    }
    struct Row {
        var href: String
        var reference: String
        var what: String
        var orderedOn: String
        var title: String
        var rule: String
        var dueOn: String
        var metOn: String
        var daysLate: Int
        var tag: Tag
    }
    struct View {
        var layout: Layout
        var from: String
        var to: String
        var totals: [Total]
        var rows: [Row]
        var isEmpty: Bool
        var csvHref: String
    }

    /// "Order: assess" or "Conceded: placement", in words.
    static func what(_ source: String, _ type: String) -> String {
        (source == "order" ? "Order to " : "Conceded appeal: ") + type.humanised.lowercased()
    }

    static func tag(_ status: String) -> Tag {
        switch status {
        case "met": .met
        case "metLate": .metLate
        case "breached": .overdue
        case "missed": .missed
        case "excepted": .excepted
        case "cancelled": .cancelled
        default: .due
        }
    }

    /// The report from 1 January two years back to today, as the API gives it by default.
    func report(_ context: APIContext) async throws -> TribunalOrdersReport.Result {
        let user = try context.require(Roles.reports, to: "read reports")
        let today = deps.today()
        return try await deps.reports.tribunalOrders(
            from: CivilDate(year: today.year - 2, month: 1, day: 1)!, to: today, asOf: today, council: user.councilId)
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let result = try await report(context)
        let view = View(
            layout: Layout(title: "Tribunal orders", session: context.sessions.session, current: "/reports/tribunal-orders"),
            from: result.from.long, to: result.to.long,
            totals: result.totals.map {
                Total(
                    what: Self.what($0.source, $0.type), year: $0.year, deadlines: $0.deadlines, onTime: $0.metOnTime, late: $0.metLate,
                    overdue: $0.overdue, missed: $0.missed, open: $0.open)
            },
            rows: result.rows.map { row in
                Row(
                    href: "/cases/\(row.caseId.uuidString.lowercased())", reference: row.reference, what: Self.what(row.source, row.type),
                    orderedOn: CivilDate(iso: row.orderedOn)?.long ?? row.orderedOn, title: RuleID(rawValue: row.rule)?.title ?? row.rule,
                    rule: row.rule, dueOn: CivilDate(iso: row.dueOn)?.long ?? row.dueOn,
                    metOn: row.metOn.flatMap { CivilDate(iso: $0)?.long } ?? (row.status == "cancelled" ? "Not needed" : "Not yet"),
                    daysLate: row.daysLate, tag: Self.tag(row.status))
            }, isEmpty: result.rows.isEmpty, csvHref: "/reports/tribunal-orders.csv")
        return pages.render("tribunal-orders", view)
    }

    /// The same report as the CSV file the API gives.
    @Sendable func csv(_ request: Request, context: APIContext) async throws -> Response {
        let result = try await report(context)
        return ReportsController.csv(result.csv, filename: "tribunal-orders-\(result.from)-to-\(result.to).csv")
    }
}
