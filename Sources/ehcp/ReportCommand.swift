import ArgumentParser
import EHCPCommandLine
import EHCPDomain
import EHCPReports
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp report timeliness|breaches|caseload|dfe`: the managers' reports on the command line, as CSV (or JSON).
struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Timeliness, breach, caseload and DfE reports (CSV on stdout).",
        subcommands: [Timeliness.self, Breaches.self, Caseload.self, DfE.self, TribunalOrders.self])

    struct Common: ParsableArguments {
        @OptionGroup var database: DatabaseOptions

        @Option(help: "Council code (needed when the database holds several).")
        var council: String?

        @ArgumentParser.Flag(help: "Print JSON instead of CSV.")
        var json = false

        /// Runs `body` in a transaction acting for the council, as the application role.
        func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
            let logger = Logger(label: "ehcp.report")
            let resolved = try database.openMigratedOrExit(logger: logger, migrating: false)
            defer { resolved.close() }
            let owner = try database.connect(resolved.owner)
            let councilId: UUID
            do { councilId = try UserDirectory().council(code: council, on: owner) } catch {
                owner.close()
                FileHandle.standardError.write(Data("ehcp: \(error)\n".utf8))
                throw ExitCode(1)
            }
            owner.close()
            let pool = try resolved.servicePool(size: 1)
            defer { pool.shutdown() }
            return try await pool.transaction(council: councilId, body)
        }

        func print(_ value: some Encodable, csv: () -> String) {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                FileHandle.standardOutput.write((try? encoder.encode(value)) ?? Data())
                FileHandle.standardOutput.write(Data("\n".utf8))
            } else {
                FileHandle.standardOutput.write(Data(csv().utf8))
            }
        }
    }

    static func date(_ text: String?, _ name: String, default value: CivilDate) throws -> CivilDate {
        guard let text else { return value }
        guard let date = CivilDate(iso: text) else { throw ValidationError("--\(name) must be a date written YYYY-MM-DD, not '\(text)'") }
        return date
    }

    struct Timeliness: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A timeliness measure (K-20W, K-DECIDE-6W, …) for a period.")
        @OptionGroup var common: Common
        @Option(help: "K-20W, K-DECIDE-6W, K-ADVICE-6W, K-NOPLAN-16W, K-REVIEW-12M, K-REVIEW-DECIDE-4W, K-AMEND-8W or K-PHASE.") var measure = "K-20W"
        @Option(help: "First day (YYYY-MM-DD); default the first of the month a year before --to.") var from: String?
        @Option(help: "Last day (YYYY-MM-DD); default today.") var to: String?
        @Option(help: "none, month, team, caseworker, adviceType, provider or phase.") var groupBy = "month"
        @Option(help: "excluded (the headline) or included.") var exceptions = "excluded"
        @Option(help: "dfe or all (K-20W).") var scope = "dfe"
        @Option(help: "Monthly targets file (JSON, see deploy/targets.json).") var targets: String?
        @Option(help: "List the cases behind this group's cell instead of the figures ('total' for all).") var cases: String?

        func run() async throws {
            let today = LondonClock.today()
            guard let measure = Measure(rawValue: measure) else {
                throw ValidationError("unknown --measure '\(measure)'; one of \(Measure.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            guard let grouping = Grouping(rawValue: groupBy) else { throw ValidationError("unknown --group-by '\(groupBy)'") }
            guard let exceptions = ExceptionsPolicy(rawValue: exceptions), let scope = Scope(rawValue: scope) else {
                throw ValidationError("--exceptions is excluded|included; --scope is dfe|all")
            }
            // The API's defaults: `to` today, or `from` when that is later; `from` the first of the month a year before `to`.
            let given = try from.map { try ReportCommand.date($0, "from", default: today) }
            let end = try ReportCommand.date(to, "to", default: max(today, given ?? today))
            let query = TimelinessReport.Query(
                measure: measure, from: given ?? TimelinessReport.Query.defaultFrom(to: end), to: end,
                grouping: grouping, exceptions: exceptions, scope: scope)
            let report = TimelinessReport(targets: try targets.map { try Targets(json: Data(contentsOf: URL(fileURLWithPath: $0))) } ?? Targets())
            if let cases {
                let rows = try await common.run { try report.trace(query, group: cases == "total" ? nil : cases, on: $0) }
                common.print(rows) { TimelinessReport.TraceRow.csv(rows) }
                return
            }
            let result = try await common.run { try report.run(query, on: $0) }
            common.print(result) { result.csv }
        }
    }

    struct Breaches: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open breaches and deadlines at risk as of a date.")
        @OptionGroup var common: Common
        @Option(help: "As of (YYYY-MM-DD); default today.") var asOf: String?
        @Option(help: "Also list deadlines due within this many days.") var atRiskDays = 14
        @Option(help: "Only this rule ID.") var rule: String?
        @Option(help: "Only this team.") var team: String?
        @Option(help: "Only this caseworker.") var caseworker: String?
        @Option(help: "daysOverdue, dueOn, reference, rule, team or caseworker.") var sort = "daysOverdue"
        @Option(help: "Most rows.") var limit = 10_000

        func run() async throws {
            var query = BreachReport.Query(asOf: try ReportCommand.date(asOf, "as-of", default: LondonClock.today()))
            guard let sort = BreachReport.Sort(rawValue: sort) else { throw ValidationError("unknown --sort '\(sort)'") }
            (query.atRiskDays, query.rule, query.team, query.caseworker, query.sort, query.limit) = (atRiskDays, rule, team, caseworker, sort, limit)
            let result = try await common.run { [query] in try BreachReport().run(query, on: $0) }
            common.print(result) { result.csv }
        }
    }

    struct Caseload: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Requests, assessments, plans, cessations, mediations and appeals in a period.")
        @OptionGroup var common: Common
        @Option(help: "First day; default 1 January this year.") var from: String?
        @Option(help: "Last day; default today.") var to: String?
        @Option(help: "Census date for active plans; default --to.") var census: String?

        func run() async throws {
            let today = LondonClock.today()
            let end = try ReportCommand.date(to, "to", default: today)
            let start = try ReportCommand.date(from, "from", default: CivilDate(year: today.year, month: 1, day: 1)!)
            let censusDate = try ReportCommand.date(census, "census", default: end)
            let result = try await common.run { try CaseloadReport().run(from: start, to: end, census: censusDate, on: $0) }
            common.print(result) { result.csv }
        }
    }
}

extension ReportCommand {
    struct TribunalOrders: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "tribunal-orders", abstract: "Tribunal orders and conceded appeals: each deadline, its status and days late.")
        @OptionGroup var common: Common
        @Option(help: "First day orders were made; default 1 January two years before --to.") var from: String?
        @Option(help: "Last day; default today.") var to: String?
        @Option(help: "Statuses as of this day; default today.") var asOf: String?

        func run() async throws {
            let today = LondonClock.today()
            let end = try ReportCommand.date(to, "to", default: today)
            let start = try ReportCommand.date(from, "from", default: CivilDate(year: end.year - 2, month: 1, day: 1)!)
            let day = try ReportCommand.date(asOf, "as-of", default: today)
            let result = try await common.run { try TribunalOrdersReport().run(from: start, to: end, asOf: day, on: $0) }
            common.print(result) { result.csv }
        }
    }

    struct DfE: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dfe", abstract: "The DfE's published measures for a year: annual reviews, phase transfers, 6-week request outcomes.")
        @OptionGroup var common: Common
        @Option(help: "The calendar year.") var year: Int
        @Option(help: "annual_reviews, phase_transfers or requests (CSV with the DfE's variable names).") var table = "annual_reviews"

        func run() async throws {
            guard let table = DfEMeasures.Table(rawValue: table) else {
                throw ValidationError("unknown --table '\(table)'; one of \(DfEMeasures.Table.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let result = try await common.run { [year] in try DfEMeasures().run(year: year, on: $0) }
            common.print(result) { result.csv(table) }
        }
    }
}

/// `ehcp export sen2 --year YYYY --out DIR`: the SEN2 modules and validation report as CSV files.
struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Statutory exports.", subcommands: [SEN2.self])

    struct SEN2: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "sen2", abstract: "Write the SEN2 return for a calendar year as CSV files.")
        @OptionGroup var common: ReportCommand.Common
        @Option(help: "The calendar year of the return.") var year: Int
        @Option(help: "Directory to write person.csv, requests.csv, … and validation.csv into.") var out = "."

        func run() async throws {
            let year = year
            let result = try await common.run { try SEN2Export().run(year: year, on: $0) }
            let directory = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for module in result.modules {
                try Data(module.csv.utf8).write(to: directory.appendingPathComponent("sen2-\(year)-\(module.name).csv"))
                print("sen2-\(year)-\(module.name).csv: \(module.rows.count) rows")
            }
            let validation = result.validationCSV
            try Data(validation.utf8).write(to: directory.appendingPathComponent("sen2-\(year)-validation.csv"))
            print("sen2-\(year)-validation.csv: \(result.validation.count) issues (census date \(result.census))")
        }
    }
}
