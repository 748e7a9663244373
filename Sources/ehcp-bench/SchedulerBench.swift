import ArgumentParser
import EHCPCommandLine
import EHCPDomain
import EHCPScheduler
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp-bench scheduler`: a sweep over 1,000,000 open deadlines of which 10,000 are due, then a sweep
/// with nothing due; beside, in the same run, the cost of touching the due rows in one statement and
/// of scanning every deadline (what a sweep without its partial index would pay).
struct SchedulerBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scheduler", abstract: "Deadline sweep time against due and total deadlines.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Open deadlines in total.")
    var deadlines = 1_000_000

    @Option(help: "Cases with a deadline due (each raises one breach).")
    var due = 10_000

    @Option(help: "Concurrent sweep transactions.")
    var workers = 2

    @Option(help: "Cases per sweep transaction.")
    var batch = 100

    func run() async throws {
        let logger = Logger(label: "ehcp.bench")
        let resolved = try database.openMigrated(logger: logger)
        defer { resolved.close() }
        let today = LondonClock.today()
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let repository = CaseRepository(decider: CaseDecider(engine: engine))
        let council = try await prepare(conninfo: resolved.owner, today: today, repository: repository)

        let pool = try PostgresPool(.init(conninfo: resolved.service, size: workers + 1, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        let sweeper = DeadlineSweeper(pool: pool, repository: repository, batchSize: batch, workers: workers)
        let total = try await pool.transaction(council: council) {
            try $0.query("SELECT count(*) FROM deadlines WHERE status = 'open'").first!.decode(Int.self, at: 0)
        }
        let dueRows = try await pool.transaction(council: council) {
            try $0.query("SELECT count(*) FROM deadlines WHERE next_alert_on <= $1::date", [today.description]).first!.decode(Int.self, at: 0)
        }
        print(
            "scheduler benchmark: \(total) open deadlines in the council, \(dueRows) due rows on \(dueRows > 0 ? "\(due) cases" : "no case"), \(workers) workers, \(batch) cases a transaction"
        )

        var started = ContinuousClock.now
        let report = try await sweeper.sweep(council: council, today: today)
        let sweepSeconds = (ContinuousClock.now - started).seconds
        started = ContinuousClock.now
        let empty = try await sweeper.sweep(council: council, today: today)
        let emptySeconds = (ContinuousClock.now - started).seconds

        // Baselines, same database, same run.
        started = ContinuousClock.now
        _ = try await pool.transaction(council: council) { connection in
            try connection.query("SELECT count(*) FROM deadlines WHERE next_alert_on IS NULL OR next_alert_on > $1::date", [today.description])
        }
        let scanSeconds = (ContinuousClock.now - started).seconds
        started = ContinuousClock.now
        let touched = try await pool.transaction(council: council) { connection in
            try connection.query(
                "UPDATE deadlines SET team = team WHERE rule = 'R-DECIDE-6W' AND status = 'open' AND due_on < $1::date", [today.description]
            ).affected
        }
        let touchSeconds = (ContinuousClock.now - started).seconds

        print("")
        print(
            "sweep raising the due work      \(format(sweepSeconds, 2)) s   \(report.breaches) breaches, \(report.reminders) reminders, \(report.alerts) alerts (target < 2 s, issue 24)"
        )
        print("sweep with nothing due          \(format(emptySeconds * 1000, 1)) ms   \(empty.cases) cases (target < 50 ms)")
        print("baseline: scan every deadline   \(format(scanSeconds * 1000, 1)) ms   (the not-due rows a sweep without its partial index would read)")
        print("baseline: one UPDATE of the     \(format(touchSeconds * 1000, 1)) ms   \(touched) overdue rows (the floor for touching them)")
        print(
            "per breach: \(format(sweepSeconds / Double(max(1, report.breaches)) * 1e6, 0)) µs recorded through decide, append, projections and alerts"
        )
    }

    /// A fresh council: `due` real cases whose decision deadline passed a week ago (bulk-loaded through
    /// decide), and enough filler cases with future deadlines to make `deadlines` open rows in all.
    private func prepare(conninfo: String, today: CivilDate, repository: CaseRepository) async throws -> UUID {
        let owner = try PostgresConnection(conninfo)
        defer { owner.close() }
        let council = UUID()
        try owner.query(
            "INSERT INTO councils (council_id, code, name) VALUES ($1, $2, 'Scheduler benchmark')",
            [council, "SCHED-\(council.uuidString.prefix(8))"])
        _ = try UserDirectory().addUser(name: "Bench Caseworker", role: .caseworker, team: "North", council: council, on: owner)
        _ = try UserDirectory().addUser(name: "Bench Manager", role: .manager, team: "North", council: council, on: owner)
        let requested = today.adding(days: -50)  // R-DECIDE-6W fell due 8 days ago; nothing else is due
        let decider = repository.decider
        var cases: [BulkCase] = []
        for n in 0..<due {
            var state = CaseState()
            for event in [
                CaseEvent.requestReceived(RequestReceived(requestSource: .parent)),
                .caseworkerAssigned(CaseworkerAssigned(caseworker: "Bench Caseworker", team: "North")),
            ] {
                for recorded in try decider.decide(state, LogEvent(event, on: requested, by: "bench", today: requested)) { state.evolve(recorded) }
            }
            cases.append(BulkCase(caseId: UUID(), council: council, reference: "SCHED-\(n)", child: nil, history: state.history))
        }
        try owner.transaction { connection in try BulkLoader(engine: decider.engine).load(cases, on: connection) }
        let perDue = try owner.query("SELECT count(*) FROM deadlines WHERE council_id = $1", [council]).first!.decode(Int.self, at: 0)
        let fillerCases = max(0, (deadlines - perDue) / 4)
        print("loaded \(due) due cases (\(perDue) deadlines); adding \(fillerCases) filler cases with 4 future deadlines each…")
        try owner.transaction { connection in
            try connection.execute("SET LOCAL session_replication_role = replica")
            try connection.query(
                """
                WITH filler AS (SELECT gen_random_uuid() AS id FROM generate_series(1, $2)),
                     heads AS (INSERT INTO case_streams (case_id, council_id, version) SELECT id, $1, 1 FROM filler RETURNING case_id)
                INSERT INTO deadlines (case_id, council_id, rule, kind, key, start_version, started_on, due_on, status, next_alert_on, caseworker, team)
                SELECT h.case_id, $1, r.rule, 'duty', '', 1, $3::date - 10, $3::date + 40 + (random() * 300)::int, 'open', $3::date + 30, 'Bench Caseworker', 'North'
                FROM heads h CROSS JOIN (VALUES ('R-DECIDE-6W'), ('R-FINAL-20W'), ('R-DRAFT-LOCAL'), ('R-REVIEW-12M')) AS r(rule)
                """,
                [council, fillerCases, today.description])
        }
        try owner.execute("ANALYZE deadlines")
        return council
    }
}
