import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// The breach report for managers, admins and auditors: duties past due and unmet, and those due within
/// 14 days, with their ages, totals by rule, team and caseworker, sortable columns, and the API's own CSV.
/// The query is read by `ReportsController.breachQuery`, as the API reads it; its parameters hold no
/// personal details, so they are in the address, and a filtered report can be bookmarked.
struct BreachesPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Count {
        var name: String
        var count: Int
    }
    struct Column {
        var title: String
        var href: String
        var sorted: Bool
    }
    struct Row {
        var href: String
        var reference: String
        var rule: String
        var ruleTitle: String
        var dueOn: String
        var days: String
        var tag: Tag
        var caseworker: String
        var team: String
    }
    struct MissedRow {
        var href: String
        var reference: String
        var rule: String
        var ruleTitle: String
        var dueOn: String
        var missedOn: String
        var days: String
        var caseworker: String
        var team: String
    }
    struct View {
        var layout: Layout
        var rules: [Option]
        var team: String
        var caseworker: String
        var asOfDay: String
        var asOfMonth: String
        var asOfYear: String
        var asOf: String
        var breached: Int
        var atRisk: Int
        var ageing: [Count]
        var byRule: [Count]
        var byTeam: [Count]
        var byCaseworker: [Count]
        var columns: [Column]
        var rows: [Row]
        var isEmpty: Bool
        var csvHref: String
        var nextHref: String?
        var previousHref: String?
        var shown: String
        var missedFromDay: String
        var missedFromMonth: String
        var missedFromYear: String
        var missedFrom: String
        var missedTotal: Int
        var missedByRule: [Count]
        var missedByTeam: [Count]
        var missedByCaseworker: [Count]
        var missedRows: [MissedRow]
        var missedShown: String
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        var query = try ReportsController.breachQuery(Self.cleaned(request), today: deps.today())
        // The page lists the 25 most recently missed; the API, its CSV and the totals have them all.
        query.missedLimit = 25
        let result = try await deps.reports.breaches(query, council: user.councilId)
        func href(_ path: String = "/reports/breaches", sort: BreachReport.Sort? = nil, offset: Int? = nil) -> String {
            var parts: [(String, String)] = []
            if let rule = query.rule { parts.append(("rule", rule)) }
            if let team = query.team { parts.append(("team", team)) }
            if let caseworker = query.caseworker { parts.append(("caseworker", caseworker)) }
            if query.asOf != deps.today() { parts.append(("asOf", query.asOf.description)) }
            if query.missedFrom != BreachReport.Query(asOf: query.asOf).missedFrom { parts.append(("missedFrom", query.missedFrom.description)) }
            let order = sort ?? query.sort
            if order != .daysOverdue { parts.append(("sort", order.rawValue)) }
            if let offset, offset > 0 { parts.append(("offset", String(offset))) }
            let encoded = parts.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }
            return path + (encoded.isEmpty ? "" : "?" + encoded.joined(separator: "&"))
        }
        func counts(_ values: [String: Int]) -> [Count] {
            values.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { Count(name: $0.key.isEmpty ? "None" : $0.key, count: $0.value) }
        }
        let columns: [(String, BreachReport.Sort)] = [
            ("Case", .reference), ("Deadline", .rule), ("Due", .dueOn), ("Days", .daysOverdue), ("Caseworker", .caseworker), ("Team", .team),
        ]
        let rows = result.rows.map { row in
            let rule = RuleID(rawValue: row.rule)
            return Row(
                href: "/cases/\(row.caseId.uuidString.lowercased())", reference: row.reference, rule: row.rule,
                ruleTitle: (rule?.title ?? row.rule) + (row.key.map { " (\($0))" } ?? ""), dueOn: CivilDate(iso: row.dueOn)?.long ?? row.dueOn,
                days: row.state == "breached" ? "\(row.daysOverdue) overdue" : "\(-row.daysOverdue) left",
                tag: row.state == "breached" ? .overdue : .dueSoon, caseworker: row.caseworker ?? "Not assigned", team: row.team ?? "None")
        }
        let missed = result.missed
        let missedRows = missed.rows.map { row in
            MissedRow(
                href: "/cases/\(row.caseId.uuidString.lowercased())", reference: row.reference, rule: row.rule,
                ruleTitle: (RuleID(rawValue: row.rule)?.title ?? row.rule) + (row.key.map { " (\($0))" } ?? ""),
                dueOn: CivilDate(iso: row.dueOn)?.long ?? row.dueOn, missedOn: CivilDate(iso: row.missedOn)?.long ?? row.missedOn,
                days: "\(row.daysOverdue)", caseworker: row.caseworker ?? "Not assigned", team: row.team ?? "None")
        }
        let total = result.totals.breached + result.totals.atRisk
        let view = View(
            layout: Layout(title: "Breach report", session: context.sessions.session, current: "/reports/breaches"),
            rules: [Option(value: "", text: "Any deadline", selected: query.rule == nil)]
                + RuleID.allCases.filter { $0.kind == .duty }.map {
                    Option(value: $0.rawValue, text: "\($0.title) (\($0.rawValue))", selected: query.rule == $0.rawValue)
                },
            team: query.team ?? "", caseworker: query.caseworker ?? "", asOfDay: String(query.asOf.day), asOfMonth: String(query.asOf.month),
            asOfYear: String(query.asOf.year), asOf: query.asOf.long, breached: result.totals.breached, atRisk: result.totals.atRisk,
            ageing: ["0-2", "2-4", "4-8", "8+"].map { Count(name: "\($0) weeks overdue", count: result.totals.ageing[$0] ?? 0) },
            byRule: counts(result.totals.byRule), byTeam: counts(result.totals.byTeam), byCaseworker: counts(result.totals.byCaseworker),
            columns: columns.map { Column(title: $0.0, href: href(sort: $0.1), sorted: query.sort == $0.1) }, rows: rows, isEmpty: rows.isEmpty,
            csvHref: href("/reports/breaches.csv"),
            nextHref: query.offset + query.limit < total ? href(offset: query.offset + query.limit) : nil,
            previousHref: query.offset > 0 ? href(offset: max(0, query.offset - query.limit)) : nil,
            shown: rows.isEmpty ? "" : "\(query.offset + 1) to \(query.offset + rows.count) of \(total)",
            missedFromDay: String(query.missedFrom.day), missedFromMonth: String(query.missedFrom.month),
            missedFromYear: String(query.missedFrom.year), missedFrom: query.missedFrom.long, missedTotal: missed.total,
            missedByRule: counts(missed.byRule), missedByTeam: counts(missed.byTeam), missedByCaseworker: counts(missed.byCaseworker),
            missedRows: missedRows,
            missedShown: missedRows.count < missed.total ? "the \(missedRows.count) most recent of \(missed.total)" : "all \(missed.total)")
        return pages.render("breaches", view)
    }

    /// The same report as the CSV file the API gives (`ReportsController.csv`).
    @Sendable func csv(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let query = try ReportsController.breachQuery(request, today: deps.today())
        return ReportsController.csv(try await deps.reports.breaches(query, council: user.councilId), query: query)
    }

    /// The filter form's request as the API's parameters: blank filters left out, each date (as of, missed
    /// since) from its three boxes.
    static func cleaned(_ request: Request) -> Request {
        let dates = ["asOf", "missedFrom"]
        var query: [(String, String)] = []
        var parts = [String: [String: String]]()
        for (name, value) in request.uri.queryParameters {
            let (name, value) = (String(name), String(value).trimmingCharacters(in: .whitespaces))
            if value.isEmpty { continue }
            let pieces = name.split(separator: "-", maxSplits: 1).map(String.init)
            if pieces.count == 2, dates.contains(pieces[0]) { parts[pieces[0], default: [:]][pieces[1]] = value } else { query.append((name, value)) }
        }
        for date in dates {
            let day = parts[date] ?? [:]
            if let d = day["day"].flatMap({ Int($0) }), let m = day["month"].flatMap({ Int($0) }), let y = day["year"].flatMap({ Int($0) }) {
                query.append((date, CivilDate(year: y, month: m, day: d)?.description ?? "\(y)-\(m)-\(d)"))
            }
        }
        let text = query.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        var head = request.head
        head.path = String(request.uri.path) + (text.isEmpty ? "" : "?" + text)
        return Request(head: head, body: request.body)
    }
}
