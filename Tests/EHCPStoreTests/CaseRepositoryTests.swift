import EHCPDemo
import EHCPDomain
import Foundation
import Postgres
import TestSupport
import Testing

@testable import EHCPStore

@Suite("Recording case events: decide, append and project in one transaction")
struct CaseRepositoryTests: CaseSuite {
    let database: TestDatabase
    let council: UUID

    init() throws { (database, council) = try Self.freshCouncil() }

    @Test("an accepted event updates the case summary and the deadlines with it")
    func projections() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        _ = try await repository.record(
            CaseCommand(council: council, caseId: caseId, command: log(.requestReceived(RequestReceived(requestSource: .school)), on: "2025-03-03")),
            pool: pool)
        _ = try await repository.record(
            CaseCommand(
                council: council, caseId: caseId,
                command: log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-04")), pool: pool)
        let council = council
        let (summary, deadlines) = try await pool.transaction(council: council) { connection in
            let summary = try connection.query(
                "SELECT stage, version, caseworker, team, next_due_on::text FROM case_summary WHERE case_id = $1", [caseId]
            ).first!
            let deadlines = try connection.query(
                "SELECT rule, due_on::text, ehcp_deadline_status(status, kind, due_on, excepted, '2025-04-21'), caseworker, status FROM deadlines WHERE case_id = $1 ORDER BY rule",
                [caseId])
            return (
                [
                    try summary.decode(String.self, at: 0), String(try summary.decode(Int.self, at: 1)), try summary.decode(String.self, at: 2),
                    try summary.decode(String.self, at: 3), try summary.decode(String.self, at: 4),
                ],
                try deadlines.rows.map { row in try (0..<5).map { try row.decode(String.self, at: $0) } }
            )
        }
        // The stored status is timeless ('open' while unmet); aged as of 21 April the decision is breached.
        #expect(summary == ["awaitingDecision", "2", "Ann", "North", "2025-04-14"])
        #expect(deadlines.contains(["R-DECIDE-6W", "2025-04-14", "breached", "Ann", "open"]))
        #expect(deadlines.contains(["R-FINAL-20W", "2025-07-21", "open", "Ann", "open"]))
    }

    @Test("a reassignment rewrites the caseworker on the open duties only, and the team on every row")
    func reassignment() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        for (event, day) in [
            (CaseEvent.requestReceived(RequestReceived(requestSource: .school)), "2025-03-03"),
            (.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), "2025-03-04"), (.decidedToAssess, "2025-03-20"),
            (.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ben", team: "South")), "2025-03-21"),
        ] {
            _ = try await repository.record(CaseCommand(council: council, caseId: caseId, command: log(event, on: day)), pool: pool)
        }
        let council = council
        let rows = try await pool.transaction(council: council) { connection in
            try connection.query("SELECT rule, status, kind, caseworker, team FROM deadlines WHERE case_id = $1", [caseId]).rows.map { row in
                try (0..<5).map { try row.decodeIfPresent(String.self, at: $0) ?? "-" }
            }
        }
        #expect(rows.contains(["R-DECIDE-6W", "met", "duty", "-", "South"]))
        #expect(rows.contains(["R-FINAL-20W", "open", "duty", "Ben", "South"]))
        for row in rows {
            #expect((row[3] == "Ben") == (row[1] == "open" && row[2] == "duty"), "\(row)")
            #expect(row[4] == "South", "\(row)")
        }
    }

    @Test("a rejected event writes nothing at all")
    func rejectionWritesNothing() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        _ = try await repository.record(
            CaseCommand(council: council, caseId: caseId, command: log(.requestReceived(RequestReceived(requestSource: .parent)), on: "2025-03-03")),
            pool: pool)
        do {
            _ = try await repository.record(
                CaseCommand(council: council, caseId: caseId, command: log(.decidedToAssess, on: "2025-02-01")), pool: pool)
            Issue.record("accepted an event before the request")
        } catch CaseCommandError.rejected(let error) {
            #expect(error.code == .beforeCaseOpened)
        }
        let council = council
        let counts = try await pool.transaction(council: council) { connection in
            try ["events", "case_summary"].map { table in
                try connection.query("SELECT count(*) FROM \(table) WHERE case_id = $1", [caseId]).first!.decode(Int.self, at: 0)
            } + [try connection.query("SELECT version FROM case_summary WHERE case_id = $1", [caseId]).first!.decode(Int.self, at: 0)]
        }
        #expect(counts == [1, 1, 1])
    }

    @Test("a stale If-Match version is refused; without one, concurrent writers all land")
    func concurrency() async throws {
        let pool = try database.pool(size: 8)
        defer { pool.shutdown() }
        let caseId = UUID()
        let repository = repository
        let council = council
        _ = try await repository.record(
            CaseCommand(council: council, caseId: caseId, command: log(.requestReceived(RequestReceived(requestSource: .parent)), on: "2025-03-03")),
            pool: pool)
        await #expect(throws: CaseCommandError.self) {
            try await repository.record(
                CaseCommand(council: council, caseId: caseId, command: log(.decidedToAssess, on: "2025-04-01"), expectedVersion: 5), pool: pool)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<12 {
                group.addTask {
                    _ = try await repository.record(
                        CaseCommand(
                            council: council, caseId: caseId,
                            command: LogEvent(
                                .caseworkerAssigned(CaseworkerAssigned(caseworker: "cw\(n)")), on: CivilDate(iso: "2025-03-04")!, by: "t",
                                today: CivilDate(iso: "2025-04-21")!)), pool: pool)
                }
            }
            try await group.waitForAll()
        }
        let versions = try await pool.transaction(council: council) { connection in
            try EventStore().readStream(caseId: caseId, on: connection).map(\.version)
        }
        #expect(versions == Array(1...13))
    }

    @Test("the deadline rows written change by change equal the rows computed from the whole history", arguments: 0..<6)
    func incrementalProjection(index: Int) async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let engine = repository.decider.engine
        // The longest histories of the first 60 demo cases: plans, reviews, breaches and reminders.
        let caseload = DemoCaseload(seed: 11, asOf: CivilDate(iso: "2026-06-01")!, decider: repository.decider)
        let demo = (0..<60).map(caseload.generate).sorted { $0.history.count > $1.history.count }[index]
        let caseId = UUID()
        for recorded in demo.history {
            _ = try await repository.record(
                CaseCommand(
                    council: council, caseId: caseId,
                    command: LogEvent(recorded.event, on: recorded.occurredOn, by: recorded.actor, today: recorded.occurredOn)), pool: pool)
        }
        let state = CaseState(history: demo.history)
        let expected = CaseProjector.deadlineText(
            DeadlineRow.rows(state: state, report: state.timelessDeadlines(engine), reminderDays: engine.settings.reminderDays),
            council: council, caseId: caseId)
        let council = council
        let stored = try await pool.transaction(council: council) { connection in
            try connection.query(
                """
                SELECT case_id::text, council_id::text, rule, kind, key, start_version::text, started_on::text, due_on::text, status,
                       met_on::text, moved_past_on::text, excepted::text, next_alert_on::text, advice_type, provider, review_outcome, caseworker, team, k20w
                FROM deadlines WHERE case_id = $1
                """, [caseId]
            ).rows.map { row in try (0..<19).map { try row.decodeIfPresent(String.self, at: $0) } }
        }
        let normalise = { (rows: [[String?]]) in rows.map { $0.map { $0 == "t" ? "true" : $0 == "f" ? "false" : $0 } }.sorted { "\($0)" < "\($1)" } }
        #expect(demo.history.count > 20)
        #expect(normalise(stored) == normalise(expected))
    }
}
