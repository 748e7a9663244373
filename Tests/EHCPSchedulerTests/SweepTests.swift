import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Testing

@testable import EHCPScheduler

@Suite("Deadline sweep: breaches and reminders exactly once")
struct SweepTests {
    @Test("a deadline due yesterday is breached once, with alerts for the caseworker and the team's manager")
    func dueYesterday() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let caseId = try await harness.openCase()  // R-DECIDE-6W due 2025-04-14
        let onDueDay = try await harness.sweeper().sweep(today: day("2025-04-14"))
        #expect(onDueDay.breaches == 0)  // the due day itself is still open …
        #expect(onDueDay.reminders == 1)  // … and the 7-day reminder (7 April) was never sent: caught up
        let report = try await harness.sweeper().sweep(today: day("2025-04-15"))
        #expect(report.breaches == 1)
        let again = try await harness.sweeper().sweep(today: day("2025-04-15"))
        #expect(again == .init())
        let breaches = try await harness.schedulerEvents().filter { $0.1 == "DeadlineBreached" }
        #expect(breaches.count == 1)
        #expect(breaches.first?.0 == caseId && breaches.first?.2.contains("R-DECIDE-6W") == true)
        #expect(try await harness.count("SELECT count(*) FROM alerts WHERE kind = 'breach' AND recipient IN ('Ann', 'Meg')") == 2)
        #expect(try await harness.count("SELECT count(*) FROM deadlines WHERE next_alert_on <= '2025-04-15'") == 0)
    }

    @Test("reminders go out on their day, once; a catch-up after downtime raises everything that fell due, once")
    func remindersAndCatchUp() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try await harness.openCase()
        #expect(try await harness.sweeper().sweep(today: day("2025-04-06")).reminders == 0)
        #expect(try await harness.sweeper().sweep(today: day("2025-04-07")).reminders == 1)  // 7 days before 14 April
        #expect(try await harness.sweeper().sweep(today: day("2025-04-08")).reminders == 0)
        // Down from 8 April to 20 June: the decision breach (14 April) and the 20-week reminder
        // 28 days before 21 July (23 June) are not due yet … but by 24 June both have come.
        let catchUp = try await harness.sweeper().sweep(today: day("2025-06-24"))
        let events = try await harness.schedulerEvents()
        let breached = events.filter { $0.1 == "DeadlineBreached" }.map(\.2)
        // R-DECIDE-6W (14 April) and the local draft-plan target R-DRAFT-LOCAL (14 weeks: 9 June).
        #expect(catchUp.breaches == breached.count)
        #expect(breached.contains { $0.contains("R-DECIDE-6W") } && breached.contains { $0.contains("R-DRAFT-LOCAL") })
        #expect(catchUp.reminders == 1)
        let reminders = events.filter { $0.1 == "DeadlineReminderSent" }.map(\.2)
        #expect(reminders.count == 2)
        #expect(reminders.contains { $0.contains("R-FINAL-20W") && $0.contains("28") })
        #expect(try await harness.sweeper().sweep(today: day("2025-06-24")) == .init())
    }

    @Test("one sweep finishes a catch-up even when cases owe several records each (batches smaller than the due rows)")
    func catchUpInSmallBatches() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        for _ in 0..<9 { try await harness.openCase() }
        // By 24 June each case owes two breaches and a reminder; batches of 2 cases, one worker.
        let report = try await harness.sweeper(batchSize: 2, workers: 1).sweep(today: day("2025-06-24"))
        #expect(report.cases == 9)
        #expect(try await harness.count("SELECT count(*) FROM deadlines WHERE next_alert_on <= '2025-06-24'") == 0)
        #expect(try await harness.sweeper().sweep(today: day("2025-06-24")) == .init())
    }

    @Test("two schedulers racing over the same due cases record one breach per case")
    func racingSchedulers() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let cases = 40
        for _ in 0..<cases { try await harness.openCase() }
        let otherPool = try harness.database.pool(size: 4)
        defer { otherPool.shutdown() }
        let (a, b) = (harness.sweeper(batchSize: 7, workers: 2), harness.sweeper(pool: otherPool, batchSize: 7, workers: 2))
        async let first = a.sweep(today: day("2025-04-15"))
        async let second = b.sweep(today: day("2025-04-15"))
        let (one, two) = try await (first, second)
        #expect(one.breaches + two.breaches == cases)
        let perCase = Dictionary(grouping: try await harness.schedulerEvents().filter { $0.1 == "DeadlineBreached" }, by: \.0)
        #expect(perCase.count == cases && perCase.values.allSatisfy { $0.count == 1 })
    }

    @Test("a sweep killed mid-way loses its unfinished batch whole; the restart records each breach once")
    func killedMidSweep() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let cases = 12
        for _ in 0..<cases { try await harness.openCase() }
        let sweeper = harness.sweeper(batchSize: 5, workers: 1)
        let (council, today) = (harness.council, day("2025-04-15"))
        // One batch commits; the next is killed before it commits (its transaction never ends).
        _ = try await harness.pool.transaction(council: council) { try sweeper.processBatch(council: council, today: today, worker: 0, on: $0) }
        struct Killed: Error {}
        await #expect(throws: Killed.self) {
            try await harness.pool.transaction(council: council) { connection in
                _ = try sweeper.processBatch(council: council, today: today, worker: 0, on: connection)
                throw Killed()
            }
        }
        #expect(try await harness.schedulerEvents().count == 5)
        let restart = try await sweeper.sweep(today: today)
        #expect(restart.breaches == cases - 5)
        let perCase = Dictionary(grouping: try await harness.schedulerEvents(), by: \.0)
        #expect(perCase.count == cases && perCase.values.allSatisfy { $0.count == 1 })
        #expect(try await harness.count("SELECT count(*) FROM alerts") == cases * 2)
    }

    @Test("what is due is computed from the case, not from a stored status: met, cancelled and excused deadlines raise nothing")
    func nothingForSettledDeadlines() throws {
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        var state = CaseState()
        let decider = CaseDecider(engine: engine)
        for (event, on) in [(CaseEvent.requestReceived(RequestReceived(requestSource: .parent)), "2025-03-03"), (.decidedToAssess, "2025-04-10")] {
            for recorded in try decider.decide(state, LogEvent(event, on: day(on), by: "t", today: day(on))) { state.evolve(recorded) }
        }
        let due = DeadlineSweeper.due(state, engine: engine, today: day("2025-04-20")).map { "\($0.0.typeName) \($0.1)" }
        #expect(!due.contains { $0.contains("DeadlineBreached") })  // decided on time: R-DECIDE-6W met
        #expect(
            DeadlineSweeper.due(state, engine: engine, today: day("2025-07-22")).contains { event, on in
                if case .deadlineBreached(let breach) = event { breach.rule == .final20W && on == day("2025-07-22") } else { false }
            })
    }
}
