import ArgumentParser
import EHCPCommandLine
import EHCPDomain
import EHCPReports
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp-bench reports`: the year's timeliness report by month and the breach report's first page over a
/// generated caseload of 100,000 cases, beside a round trip and a scan of the event log (what a report
/// that replayed events would at least pay), measured in the same run.
struct ReportsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "reports", abstract: "Report latency over a large generated caseload.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Demo cases in the council (generated when there are fewer).")
    var cases = 100_000

    @Option(help: "Runs of each query; the median is reported.")
    var runs = 11

    func run() async throws {
        let logger = Logger(label: "ehcp.bench")
        let resolved = try database.openMigrated(logger: logger)
        defer { resolved.close() }
        let owner = try PostgresConnection(resolved.owner)
        let council = try DemoSeeder.council(0, on: owner)
        let existing = try owner.query("SELECT count(*) FROM case_summary WHERE council_id = $1", [council]).first!.decode(Int.self, at: 0)
        let today = LondonClock.today()
        if existing < cases {
            print("generating \(cases - existing) demo cases (about 2 minutes per 100,000)…")
            try await DemoSeeder(conninfo: resolved.owner, seed: UInt64.random(in: 1...UInt64.max), asOf: today, councils: 1)
                .seed(cases: cases - existing, progress: false)
        }
        try owner.execute("VACUUM ANALYZE")  // what autovacuum does in service: index-only scans need the visibility map
        let events = try owner.query("SELECT count(*) FROM events WHERE council_id = $1", [council]).first!.decode(Int.self, at: 0)
        owner.close()
        let pool = try PostgresPool(.init(conninfo: resolved.service, size: 1, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        let total = try await pool.transaction(council: council) { try $0.query("SELECT count(*) FROM case_summary").first!.decode(Int.self, at: 0) }
        print("reports benchmark: \(total) cases, \(events) events, median of \(runs) runs")

        let year = TimelinessReport.Query(measure: .final20W, from: today.adding(days: -365), to: today, grouping: .month)
        let timeliness = try await measure(pool, council) { try TimelinessReport().run(year, on: $0) }
        let decide = try await measure(pool, council) {
            try TimelinessReport().run(.init(measure: .decide6W, from: year.from, to: today, grouping: .team), on: $0)
        }
        let breaches = try await measure(pool, council) { try BreachReport().run(BreachReport.Query(asOf: today), on: $0) }
        let roundTrip = try await measure(pool, council) { try $0.query("SELECT 1") }
        let scan = try await measure(pool, council, runs: 3) { try $0.query("SELECT count(*), sum(length(data::text)) FROM events") }
        print("")
        for (name, milliseconds, target) in [
            ("K-20W for the year, by month", timeliness, "< 300 ms"), ("K-DECIDE-6W for the year, by team", decide, ""),
            ("breach report, first page of 100", breaches, "< 100 ms"), ("baseline: one round trip", roundTrip, ""),
            ("baseline: read the event log once", scan, "(what replaying would cost)"),
        ] {
            print(name.padding(toLength: 36, withPad: " ", startingAt: 0), (format(milliseconds, 1) + " ms").leftPad(11), " ", target)
        }
    }

    private func measure<T: Sendable>(
        _ pool: PostgresPool, _ council: UUID, runs: Int? = nil, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> Double {
        var samples: [Double] = []
        for _ in 0..<(runs ?? self.runs) {
            let started = ContinuousClock.now
            _ = try await pool.transaction(council: council, body)
            samples.append((ContinuousClock.now - started).seconds * 1000)
        }
        return samples.sorted()[samples.count / 2]
    }
}
