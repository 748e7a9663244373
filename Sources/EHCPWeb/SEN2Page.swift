import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// The SEN2 return for the data team: choose a year, read the validation report, download each module
/// as the same CSV file the API gives (`ReportsController.sen2File`). Making the return reads children's
/// details, so each time is logged, as the API's export is.
struct SEN2Page: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Module {
        var name: String
        var rows: Int
        var href: String
    }
    struct Issue {
        var table: String
        var item: String
        var problem: String
    }
    struct View {
        var layout: Layout
        var years: [Option]
        var year: Int
        var census: String
        var modules: [Module]
        var issues: [Issue]
        var clean: Bool
        var validationHref: String
    }

    /// The calendar year a report page asks for (`?year=`, from 2014 to this year), else `otherwise`.
    static func year(_ request: Request, today: CivilDate, otherwise: Int? = nil) -> Int {
        request.uri.queryParameters["year"].flatMap { Int($0) }.flatMap { (2014...today.year).contains($0) ? $0 : nil } ?? otherwise ?? today.year
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "export the SEN2 return")
        let today = deps.today()
        let year = Self.year(request, today: today)
        let result = try await deps.reports.sen2(year: year, for: deps.caller(user, context))
        let view = View(
            layout: Layout(title: "SEN2 return", session: context.sessions.session, current: "/reports/sen2"),
            years: (2014...today.year).reversed().map { Option(value: String($0), text: String($0), selected: $0 == year) }, year: year,
            census: result.census.long,
            modules: result.modules.map { Module(name: $0.name, rows: $0.rows.count, href: "/reports/sen2/\(year)/\($0.name).csv") },
            issues: result.validation.map { Issue(table: $0.requesttableid, item: $0.item, problem: $0.problem) },
            clean: result.validation.isEmpty, validationHref: "/reports/sen2/\(year)/validation.csv")
        return pages.render("sen2", view)
    }

    @Sendable func download(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "export the SEN2 return")
        let today = deps.today()
        guard let year = context.parameters.get("year").flatMap({ Int($0) }), (2014...today.year).contains(year),
            let file = context.parameters.get("file"), file.hasSuffix(".csv")
        else { throw Problem.notFound("file", "") }
        let result = try await deps.reports.sen2(year: year, for: deps.caller(user, context))
        do {
            return try ReportsController.sen2File(result, module: String(file.dropLast(4)))
        } catch {
            throw Problem.notFound("file", file)
        }
    }
}
