import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Hummingbird

/// `/v1/reports/…` and `/v1/exports/sen2` for managers, admins and auditors: JSON, or CSV when the
/// request says `Accept: text/csv`.
public struct ReportsController: Sendable {
    let deps: APIDependencies

    public init(deps: APIDependencies) { self.deps = deps }

    func register(on group: RouterGroup<APIContext>) {
        group.get("reports/timeliness", use: timeliness)
        group.get("reports/timeliness/cases", use: trace)
        group.get("reports/breaches", use: breaches)
        group.get("reports/caseload", use: caseload)
        group.get("reports/dfe", use: dfe)
        group.get("reports/tribunal-orders", use: tribunalOrders)
        group.get("exports/sen2", use: sen2)
    }

    static func wantsCSV(_ request: Request) -> Bool { request.headers[.accept]?.lowercased().contains("text/csv") == true }

    public static func csv(_ text: String, filename: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "text/csv; charset=utf-8", .contentDisposition: "attachment; filename=\"\(filename)\""],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    struct Parameters {
        let query: [String: String]

        init(_ request: Request, allowed: Set<String>) throws {
            var query: [String: String] = [:]
            for (name, value) in request.uri.queryParameters {
                guard allowed.contains(String(name)) else {
                    throw Problem.invalid(
                        field: String(name), value: nil, "unknown query parameter; use one of: \(allowed.sorted().joined(separator: ", "))")
                }
                query[String(name)] = String(value)
            }
            self.query = query
        }

        func date(_ name: String, default value: CivilDate? = nil) throws -> CivilDate {
            guard let text = query[name] else {
                if let value { return value }
                throw Problem.invalid(field: name, value: nil, "'\(name)' is required (YYYY-MM-DD)")
            }
            guard let date = CivilDate(iso: text), CivilDate.acceptedYears.contains(date.year) else {
                throw Problem.malformedDate(field: name, value: text)
            }
            return date
        }

        func choice<T: RawRepresentable & CaseIterable>(_ name: String, default value: T) throws -> T where T.RawValue == String {
            guard let text = query[name] else { return value }
            guard let choice = T(rawValue: text) else {
                throw Problem.invalid(field: name, value: text, "'\(name)' must be one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return choice
        }

        func int(_ name: String, range: ClosedRange<Int>, default value: Int) throws -> Int {
            try QueryValue.int(query[name], field: name, range: range) ?? value
        }
    }

    func timelinessQuery(_ parameters: Parameters) throws -> TimelinessReport.Query {
        // Defaults: `to` today (or `from`, when that is later); `from` the first of the month a year before `to`.
        let today = deps.today()
        let given = parameters.query["from"] == nil ? nil : try parameters.date("from")
        let to = try parameters.date("to", default: max(today, given ?? today))
        let query = TimelinessReport.Query(
            measure: try parameters.choice("measure", default: Measure.final20W),
            from: given ?? TimelinessReport.Query.defaultFrom(to: to),
            to: to, grouping: try parameters.choice("groupBy", default: Grouping.month),
            exceptions: try parameters.choice("exceptions", default: ExceptionsPolicy.excluded),
            scope: try parameters.choice("scope", default: Scope.dfe))
        guard query.from <= query.to else {
            throw Problem.invalid(field: "to", value: query.to.description, "'to' must not be before 'from' (\(query.from))")
        }
        return query
    }

    static let timelinessParameters: Set<String> = ["measure", "from", "to", "groupBy", "exceptions", "scope"]

    @Sendable func timeliness(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let query = try timelinessQuery(Parameters(request, allowed: Self.timelinessParameters))
        let result = try await deps.reports.timeliness(query, council: user.councilId)
        guard Self.wantsCSV(request) else { return JSONOutput.response(result) }
        return Self.csv(result.csv, filename: "\(query.measure.rawValue)-\(query.from)-\(query.to).csv")
    }

    @Sendable func trace(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = try Parameters(request, allowed: Self.timelinessParameters.union(["group"]))
        let query = try timelinessQuery(parameters)
        let group = parameters.query["group"]
        let rows = try await deps.reports.trace(query, group: group, council: user.councilId)
        guard Self.wantsCSV(request) else {
            struct Trace: Encodable {
                var measure: Measure
                var group: String?
                var cases: [TimelinessReport.TraceRow]
            }
            return JSONOutput.response(Trace(measure: query.measure, group: group, cases: rows))
        }
        return Self.csv(TimelinessReport.TraceRow.csv(rows), filename: "\(query.measure.rawValue)-cases.csv")
    }

    @Sendable func breaches(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let query = try Self.breachQuery(request, today: deps.today())
        let result = try await deps.reports.breaches(query, council: user.councilId)
        guard Self.wantsCSV(request) else { return JSONOutput.response(result) }
        return Self.csv(result, query: query)
    }

    /// The breach report's query from a request's parameters: the API's and the web page's, one reading.
    public static func breachQuery(_ request: Request, today: CivilDate) throws -> BreachReport.Query {
        let parameters = try Parameters(
            request, allowed: ["asOf", "atRiskDays", "rule", "team", "caseworker", "sort", "limit", "offset", "missedFrom"])
        var query = BreachReport.Query(asOf: try parameters.date("asOf", default: today))
        query.missedFrom = try parameters.date("missedFrom", default: query.missedFrom)
        if query.missedFrom > query.asOf {
            throw Problem.invalid(field: "missedFrom", value: query.missedFrom.description, "must not be after asOf (\(query.asOf))")
        }
        query.atRiskDays = try parameters.int("atRiskDays", range: 0...366, default: 14)
        query.rule = parameters.query["rule"]
        if let rule = query.rule, RuleID(rawValue: rule) == nil {
            throw Problem.invalid(field: "rule", value: rule, "unknown rule ID; see docs/rules.md")
        }
        query.team = parameters.query["team"]
        query.caseworker = parameters.query["caseworker"]
        query.sort = try parameters.choice("sort", default: BreachReport.Sort.daysOverdue)
        query.limit = try parameters.int("limit", range: 1...10_000, default: 100)
        query.offset = try parameters.int("offset", range: 0...10_000_000, default: 0)
        return query
    }

    /// The breach report as the CSV file the API and the web page both give.
    public static func csv(_ result: BreachReport.Result, query: BreachReport.Query) -> Response {
        csv(result.csv, filename: "breaches-\(query.asOf).csv")
    }

    @Sendable func caseload(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = try Parameters(request, allowed: ["from", "to", "census"])
        let today = deps.today()
        let from = try parameters.date("from", default: CivilDate(year: today.year, month: 1, day: 1)!)
        let to = try parameters.date("to", default: today)
        let census = try parameters.date("census", default: to)
        let result = try await deps.reports.caseload(from: from, to: to, census: census, council: user.councilId)
        guard Self.wantsCSV(request) else { return JSONOutput.response(result) }
        return Self.csv(result.csv, filename: "caseload-\(from)-\(to).csv")
    }

    /// Tribunal orders (reg 44) and conceded appeals (reg 45): each deadline, its status and days late.
    @Sendable func tribunalOrders(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = try Parameters(request, allowed: ["from", "to", "asOf"])
        let today = deps.today()
        let to = try parameters.date("to", default: today)
        let from = try parameters.date("from", default: CivilDate(year: to.year - 2, month: 1, day: 1)!)
        if from > to { throw Problem.invalid(field: "to", value: to.description, "must not be before from (\(from))") }
        let asOf = try parameters.date("asOf", default: today)
        let result = try await deps.reports.tribunalOrders(from: from, to: to, asOf: asOf, council: user.councilId)
        guard Self.wantsCSV(request) else { return JSONOutput.response(result) }
        return Self.csv(result.csv, filename: "tribunal-orders-\(from)-to-\(to).csv")
    }

    /// The DfE's published measures for a calendar year: JSON, or one table as CSV with the DfE's names.
    @Sendable func dfe(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "read reports")
        let parameters = try Parameters(request, allowed: ["year", "table"])
        guard let text = parameters.query["year"], let year = Int(text), (2014...2100).contains(year) else {
            throw Problem.invalid(field: "year", value: parameters.query["year"], "'year' is required: the calendar year, e.g. 2025")
        }
        let table = try parameters.query["table"].map { name in
            guard let table = DfEMeasures.Table(rawValue: name) else {
                throw Problem.invalid(
                    field: "table", value: name, "must be one of \(DfEMeasures.Table.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return table
        }
        let result = try await deps.reports.dfe(year: year, council: user.councilId)
        guard Self.wantsCSV(request) || table != nil else { return JSONOutput.response(result) }
        let chosen = table ?? .annualReviews
        return Self.csv(result.csv(chosen), filename: "dfe-\(chosen.rawValue)-\(year).csv")
    }

    @Sendable func sen2(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.reports, to: "export the SEN2 return")
        let parameters = try Parameters(request, allowed: ["year", "module"])
        guard let text = parameters.query["year"], let year = Int(text), (2014...2100).contains(year) else {
            throw Problem.invalid(field: "year", value: parameters.query["year"], "'year' is required: the calendar year of the return, e.g. 2025")
        }
        let result = try await deps.reports.sen2(year: year, for: deps.caller(user, context))
        guard let module = parameters.query["module"] else { return JSONOutput.response(result) }
        return try Self.sen2File(result, module: module)
    }

    /// One module of the SEN2 return, or its validation report, as the CSV file the API and the web page give.
    public static func sen2File(_ result: SEN2Export.Result, module: String) throws -> Response {
        if module == "validation" {
            return csv(result.validationCSV, filename: "sen2-\(result.year)-validation.csv")
        }
        guard let found = result.modules.first(where: { $0.name == module }) else {
            throw Problem.invalid(
                field: "module", value: module, "'module' must be one of: \((result.modules.map(\.name) + ["validation"]).joined(separator: ", "))")
        }
        return csv(found.csv, filename: "sen2-\(result.year)-\(module).csv")
    }
}
