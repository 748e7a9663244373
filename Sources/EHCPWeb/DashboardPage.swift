import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird
import Synchronization

/// The managers' dashboard: a tile for each timeliness measure (statutory-timescales.md §5) with the
/// latest month, the last 12 months and the target; the K-20W trend drawn as SVG with the same figures in
/// a table; and the caseload counts. Every figure links to the cases behind it. The figures are the
/// API's (`ReportWork`), so the page and `GET /v1/reports/timeliness` always agree. They are held for a
/// minute (`DashboardFigures`), since a monthly figure does not move in a minute; computing them sums the
/// report counts (`ReportCounts`), about 40 ms at 1,000,000 cases. The page says when they were computed.
struct DashboardPage: Sendable {
    let deps: APIDependencies
    let pages: Pages
    let figures = DashboardFigures()

    struct Tile {
        var measure: String
        var title: String
        var source: String
        var latestMonth: String
        var latest: String
        var latestHref: String
        var year: String
        var yearHref: String
        var groupHref: String
        var counts: String
        var target: String?
        var belowTarget: Bool
        /// England's published figure for the period's last year, when the DfE publishes one.
        var england: String?
    }
    struct Count {
        var name: String
        var value: Int
    }
    struct View {
        var layout: Layout
        var period: String
        var computedAt: String
        var toDay: String
        var toMonth: String
        var toYear: String
        var tiles: [Tile]
        var chart: TrendChart
        var caseload: [Count]
        var census: String
    }

    /// England's latest published figure for a measure, for a year up to `to`'s ("46.1% in 2025").
    static func england(_ measure: Measure, before to: CivilDate) -> String? {
        guard let figure = EnglandFigures.shipped.latest(measure, exceptions: .excluded, upTo: to.year) else { return nil }
        return "\(number(figure.percent))% in \(figure.year)"
    }

    /// Plain words for each measure, with the law it comes from.
    static func describe(_ measure: Measure) -> (title: String, source: String) {
        switch measure {
        case .final20W: ("New plans issued within 20 weeks", "regulation 13(2)")
        case .decide6W: ("Decisions to assess within 6 weeks", "regulation 5(1)")
        case .advice6W: ("Advice returned within 6 weeks", "regulation 8(1)")
        case .noPlan16W: ("Decisions not to issue a plan within 16 weeks", "regulation 10(1)")
        case .review12M: ("Annual reviews within 12 months", "Children and Families Act 2014 s.44(1)")
        case .reviewDecide4W: ("Review decisions within 4 weeks of the meeting", "regulation 20(10)")
        case .amend8W: ("Amended plans within 8 weeks of the notice", "regulation 22(3)")
        case .phase: ("Phase transfers by 15 February or 31 March", "regulation 18")
        }
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let today = deps.today()
        let to = Self.date(request, "to") ?? today
        let from = TimelinessReport.Query.defaultFrom(to: to)
        let (results, caseload, computedAt) = try await figures.get(council: user.councilId, to: to) {
            try await compute(council: user.councilId, from: from, to: to)
        }
        let latestMonth = String(to.description.prefix(7))
        let tiles = results.prefix(Measure.allCases.count).map { result in
            let latest = result.rows.first { $0.group == latestMonth }
            let (title, source) = Self.describe(result.measure)
            let trace = "/reports/cases?measure=\(result.measure.rawValue)&to=\(to)"
            return Tile(
                measure: result.measure.rawValue, title: title, source: source, latestMonth: Self.monthName(latestMonth),
                latest: Self.percent(latest), latestHref: trace + "&group=\(latestMonth)", year: Self.percent(result.total),
                yearHref: trace, groupHref: "/reports/measure?measure=\(result.measure.rawValue)&groupBy=team&to=\(to)",
                counts: "\(result.total.numerator) of \(result.total.denominator)",
                target: latest?.target.map { "Target \(Self.number($0))%" },
                belowTarget: latest.flatMap { row in row.percent.flatMap { percent in row.target.map { percent < $0 } } } ?? false,
                england: Self.england(result.measure, before: to))
        }
        let view = View(
            layout: Layout(title: "Dashboard", session: context.sessions.session, current: "/dashboard"),
            period: "\(from.long) to \(to.long)", computedAt: computedAt, toDay: String(to.day), toMonth: String(to.month), toYear: String(to.year),
            tiles: tiles, chart: TrendChart(excluding: results[0], including: results[Measure.allCases.count], to: to),
            caseload: [
                Count(name: "Requests for an assessment", value: caseload.requestsReceived),
                Count(name: "Assessments agreed", value: caseload.assessed), Count(name: "Requests refused", value: caseload.refused),
                Count(name: "New plans issued", value: caseload.plansIssued),
                Count(name: "Active plans on \(to.long)", value: caseload.activePlans), Count(name: "Plans ceased", value: caseload.plansCeased),
            ], census: to.long)
        return pages.render("dashboard", view)
    }

    /// Every measure by month over the year to `to` (K-20W twice: exceptions left out, then counted),
    /// and the caseload: the figures `ReportWork` gives the API.
    private func compute(council: UUID, from: CivilDate, to: CivilDate) async throws -> DashboardFigures.Figures {
        let results = try await withThrowingTaskGroup(of: (Int, TimelinessReport.Result).self) { group in
            let queries =
                Measure.allCases.map { TimelinessReport.Query(measure: $0, from: from, to: to) }
                + [TimelinessReport.Query(measure: .final20W, from: from, to: to, exceptions: .included)]
            for (index, query) in queries.enumerated() {
                group.addTask { (index, try await deps.reports.timeliness(query, council: council)) }
            }
            var results = [TimelinessReport.Result?](repeating: nil, count: queries.count)
            for try await (index, result) in group { results[index] = result }
            return results.compactMap { $0 }
        }
        let caseload = try await deps.reports.caseload(from: from, to: to, census: to, council: council)
        return (results, caseload)
    }

    static func date(_ request: Request, _ name: String) -> CivilDate? {
        let query = request.uri.queryParameters
        if let text = query[Substring(name)], let date = CivilDate(iso: text), CivilDate.acceptedYears.contains(date.year) { return date }
        guard let d = query[Substring(name + "-day")].flatMap({ Int($0) }), let m = query[Substring(name + "-month")].flatMap({ Int($0) }),
            let y = query[Substring(name + "-year")].flatMap({ Int($0) }), CivilDate.acceptedYears.contains(y)
        else { return nil }
        return CivilDate(year: y, month: m, day: d)
    }

    static func percent(_ row: TimelinessReport.Row?) -> String {
        guard let value = row?.percent else { return "No cases" }
        return number(value) + "%"
    }

    static func number(_ value: Double) -> String { value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value) }

    /// "2026-11" as "November 2026".
    static func monthName(_ month: String) -> String {
        guard let date = CivilDate(iso: month + "-01") else { return month }
        return String(date.long.drop { $0 != " " }.dropFirst())
    }
}

/// The K-20W trend as SVG: the council's line excluding exceptions (solid, circles), including them
/// (dashed, squares), and the target (dotted, diamonds). Shapes and dashes, not only colours, tell the
/// lines apart, and the same figures follow in a table.
struct TrendChart: Sendable {
    struct Point {
        var x: Int
        var y: Int
        var label: String
    }
    struct Series {
        var name: String
        var path: String
        var points: [Point]
    }
    struct Month {
        var name: String
        /// The axis label: the month's first three letters, with the year under the first month and January.
        var short: String
        var year: String?
        var x: Int
        var excluding: String
        var including: String
        var target: String
        var englandFigure: String
    }
    struct Gridline {
        var y: Int
        var label: String
    }
    var excluding: Series
    var including: Series
    var target: Series
    var england: Series
    var months: [Month]
    var gridlines: [Gridline]
    var summary: String

    static let (left, right, top, bottom) = (60, 740, 20, 260)

    init(excluding: TimelinessReport.Result, including: TimelinessReport.Result, to: CivilDate) {
        var names: [String] = []
        var month = CivilDate(year: excluding.from.year, month: excluding.from.month, day: 1)!
        while month <= to {
            names.append(String(month.description.prefix(7)))
            month = month.adding(months: 1)
        }
        let step = names.count > 1 ? Double(Self.right - Self.left) / Double(names.count - 1) : 0
        func x(_ index: Int) -> Int { Self.left + Int(Double(index) * step) }
        func y(_ percent: Double) -> Int { Self.bottom - Int(percent / 100 * Double(Self.bottom - Self.top)) }
        func series(_ name: String, _ value: (String) -> Double?) -> Series {
            let points = names.enumerated().compactMap { index, month in
                value(month).map { Point(x: x(index), y: y($0), label: "\(DashboardPage.monthName(month)): \(DashboardPage.number($0))%") }
            }
            let path = points.enumerated().map { "\($0.offset == 0 ? "M" : "L")\($0.element.x) \($0.element.y)" }.joined(separator: " ")
            return Series(name: name, path: path, points: points)
        }
        let rowsEx = Dictionary(excluding.rows.map { ($0.group, $0) }) { a, _ in a }
        let rowsIn = Dictionary(including.rows.map { ($0.group, $0) }) { a, _ in a }
        self.excluding = series("Within 20 weeks, exceptions left out") { rowsEx[$0]?.percent }
        self.including = series("Within 20 weeks, exceptions counted") { rowsIn[$0]?.percent }
        self.target = series("Target") { rowsEx[$0]?.target }
        // England's figure is annual: each month shows its year's.
        self.england = series("England") { rowsEx[$0]?.england }
        months = names.enumerated().map { index, month in
            Month(
                name: DashboardPage.monthName(month), short: String(DashboardPage.monthName(month).prefix(3)),
                year: index == 0 || month.hasSuffix("-01") ? String(month.prefix(4)) : nil, x: x(index),
                excluding: rowsEx[month]?.percent.map { DashboardPage.number($0) + "%" } ?? "No cases",
                including: rowsIn[month]?.percent.map { DashboardPage.number($0) + "%" } ?? "No cases",
                target: rowsEx[month]?.target.map { DashboardPage.number($0) + "%" } ?? "None",
                englandFigure: rowsEx[month]?.england.map { DashboardPage.number($0) + "%" } ?? "Not published")
        }
        gridlines = stride(from: 0, through: 100, by: 25).map { Gridline(y: y(Double($0)), label: "\($0)%") }
        let last = months.last
        summary =
            "Line chart of new plans issued within 20 weeks, by month, \(months.first?.name ?? "") to \(last?.name ?? ""). "
            + "In \(last?.name ?? "the latest month"): \(last?.excluding ?? "no cases") with exceptions left out, "
            + "\(last?.including ?? "no cases") with them counted, against a target of \(last?.target ?? "none"); "
            + "England's published figure for that year: \(last?.englandFigure.lowercased() ?? "not published"). The table below gives every month."
    }
}

/// The dashboard's figures per council and end date, held for `lifetime`: a manager's reloads, and a
/// team looking at once, cost one computation a minute.
final class DashboardFigures: Sendable {
    typealias Figures = (results: [TimelinessReport.Result], caseload: CaseloadReport.Result)
    static let lifetime = Duration.seconds(60)
    static let capacity = 1_000
    private let held = Mutex<[String: (figures: Figures, computedAt: Date, until: ContinuousClock.Instant)]>([:])

    /// The figures and when they were computed ("14:05"), computing them when none are held.
    func get(council: UUID, to: CivilDate, compute: () async throws -> Figures) async throws -> (
        [TimelinessReport.Result], CaseloadReport.Result, String
    ) {
        let key = "\(council) \(to)"
        let now = ContinuousClock.now
        if let found = held.withLock({ $0[key] }), found.until > now {
            return (found.figures.results, found.figures.caseload, London.clock(found.computedAt))
        }
        let figures = try await compute()
        let computedAt = Date()
        held.withLock { held in
            if held.count >= Self.capacity { held = held.filter { $0.value.until > now } }
            if held.count >= Self.capacity { held.removeAll() }
            held[key] = (figures, computedAt, ContinuousClock.now + Self.lifetime)
        }
        return (figures.results, figures.caseload, London.clock(computedAt))
    }

}
