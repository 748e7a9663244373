import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// The DfE's published measures for a year, as the DfE's own tables publish them for every council:
/// annual reviews (in total and by age on 31 August), phase transfers by the statutory date and requests
/// decided within 6 weeks, each beside England's figure where published, with the API's CSV for each
/// table (`DfEMeasures`, docs/reports.md).
struct DfEPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Figure {
        var name: String
        var value: String
        var england: String
    }
    struct AgeRow {
        var age: String
        var expected: Int
        var completed: Int
        var within: Int
        var over: Int
        var percent: String
    }
    struct Download {
        var name: String
        var href: String
    }
    struct View {
        var layout: Layout
        var years: [Option]
        var year: Int
        var census: String
        var reviews: [Figure]
        var ages: [AgeRow]
        var transfers: [Figure]
        var requests: [Figure]
        var downloads: [Download]
        var sources: [String]
        var hasSources: Bool
    }

    /// "47.6%" of `part` in `whole`, or "No cases".
    static func percent(_ part: Int, of whole: Int) -> String {
        whole == 0 ? "No cases" : DashboardPage.number((1000 * Double(part) / Double(whole)).rounded() / 10) + "%"
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let today = deps.today()
        // The last whole year, unless another is asked for.
        let year = SEN2Page.year(request, today: today, otherwise: today.year - 1)
        let result = try await deps.reports.dfe(year: year, council: user.councilId)
        let total = result.annualReviews.first
        let england = result.england.annualReviews
        let notPublished = "Not published"
        func count(_ value: Int?) -> String { value.map { $0.formatted(.number.grouping(.automatic)) } ?? notPublished }
        let reviews: [Figure] = [
            Figure(name: "Reviews expected in \(year)", value: count(total?.reviewExpected), england: count(england?.reviewExpected)),
            Figure(name: "Reviews not expected (plans too new)", value: count(total?.reviewNotExpected), england: notPublished),
            Figure(name: "Reviews completed by 31 December", value: count(total?.reviewCompleted), england: count(england?.reviewCompleted)),
            Figure(name: "Review meetings held", value: count(total?.meetingsHeld), england: notPublished),
            Figure(name: "Outcome: amend", value: count(total?.outcomeAmended), england: count(england?.outcomeAmended)),
            Figure(name: "Outcome: maintain", value: count(total?.outcomeMaintained), england: count(england?.outcomeMaintained)),
            Figure(name: "Outcome: cease", value: count(total?.outcomeCeased), england: count(england?.outcomeCeased)),
            Figure(
                name: "Decisions within 4 weeks of the meeting",
                value: "\(count(total?.decision4Weeks)) (\(Self.percent(total?.decision4Weeks ?? 0, of: total?.reviewCompleted ?? 0)))",
                england: england.map { "\(count($0.decision4Weeks)) (\(Self.percent($0.decision4Weeks, of: $0.reviewCompleted)))" }
                    ?? EnglandFigures.shipped.figure(.reviewDecide4W, exceptions: .excluded, year: year).map {
                        DashboardPage.number($0.percent) + "%"
                    }
                    ?? notPublished),
            Figure(
                name: "Decisions over 4 weeks after the meeting", value: count(total?.decisionOver4Weeks),
                england: count(england?.decisionOver4Weeks)),
        ]
        let ages = result.annualReviews.dropFirst().map {
            AgeRow(
                age: $0.breakdown.prefix(1).uppercased() + $0.breakdown.dropFirst(), expected: $0.reviewExpected, completed: $0.reviewCompleted,
                within: $0.decision4Weeks, over: $0.decisionOver4Weeks, percent: Self.percent($0.decision4Weeks, of: $0.reviewCompleted))
        }
        let transfers = result.phaseTransfers.map {
            Figure(
                name: $0.breakdown == "Total" ? "All transfers" : $0.breakdown.prefix(1).uppercased() + $0.breakdown.dropFirst(),
                value: "\($0.finalByDeadline) of \($0.due) (\(Self.percent($0.finalByDeadline, of: $0.due)))", england: notPublished)
        }
        let requests = result.requests
        let decided = requests.requestOutcomeSixWeeks + requests.requestOutcomeOver6Weeks
        let view = View(
            layout: Layout(title: "DfE measures", session: context.sessions.session, current: "/reports/dfe"),
            years: (2014...today.year).reversed().map { Option(value: String($0), text: String($0), selected: $0 == year) }, year: year,
            census: result.census.long, reviews: reviews, ages: ages, transfers: transfers,
            requests: [
                Figure(
                    name: "Requests decided within 6 weeks",
                    value: "\(requests.requestOutcomeSixWeeks) of \(decided) (\(Self.percent(requests.requestOutcomeSixWeeks, of: decided)))",
                    england: result.england.requestOutcomeSixWeeksPercent.map { DashboardPage.number($0) + "%" } ?? notPublished)
            ],
            downloads: DfEMeasures.Table.allCases.map {
                Download(name: $0.rawValue.replacingOccurrences(of: "_", with: " "), href: "/reports/dfe/\(year)/\($0.rawValue).csv")
            },
            sources: result.england.sources, hasSources: !result.england.sources.isEmpty)
        return pages.render("dfe", view)
    }

    /// One table as the CSV file the API gives.
    @Sendable func download(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        guard let year = context.parameters.get("year").flatMap({ Int($0) }), (2014...deps.today().year).contains(year),
            let file = context.parameters.get("file"), file.hasSuffix(".csv"), let table = DfEMeasures.Table(rawValue: String(file.dropLast(4)))
        else { throw Problem.notFound("file", "") }
        let result = try await deps.reports.dfe(year: year, council: user.councilId)
        return ReportsController.csv(result.csv(table), filename: "dfe-\(table.rawValue)-\(year).csv")
    }
}
