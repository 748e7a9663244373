import EHCPDemo
import EHCPDomain
import Foundation
import Postgres
import TestSupport
import Testing

@testable import EHCPStore

@Suite("Batch writer: many commands per transaction, outcomes as if one at a time")
struct CaseBatchWriterTests: CaseSuite {
    let database: TestDatabase
    let council: UUID

    init() throws { (database, council) = try Self.freshCouncil() }

    func open(_ caseId: UUID, pool: PostgresPool) async throws {
        _ = try await repository.record(
            CaseCommand(council: council, caseId: caseId, command: log(.requestReceived(RequestReceived(requestSource: .parent)), on: "2025-03-03")),
            pool: pool)
    }

    /// A pool, a one-lane writer on it, and a case opened through the repository.
    func openedCase() async throws -> (PostgresPool, CaseBatchWriter, UUID) {
        let pool = try database.pool(size: 4)
        let caseId = UUID()
        try await open(caseId, pool: pool)
        return (pool, CaseBatchWriter(repository: repository, pool: pool, lanes: 1, batchSize: 16), caseId)
    }

    /// Polls `condition` (another connection's view of the server, a writer's queue) until it holds;
    /// throws after 30 seconds.
    func waitUntil(_ what: String, _ condition: () throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while try !condition() {
            guard ContinuousClock.now < deadline else { throw PostgresError(.query, message: "timed out waiting until \(what)") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }

    /// Sessions of the test database waiting for a lock.
    func lockWaiters(seenBy watcher: PostgresConnection) throws -> Int {
        try watcher.query("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()")
            .first!.decode(Int.self, at: 0)
    }

    @Test("twelve demo histories replayed at once land whole, in order, with the projections of their full histories, in shared commits")
    func concurrentHistories() async throws {
        let pool = try database.pool(size: 4)
        defer { pool.shutdown() }
        let writer = CaseBatchWriter(repository: repository, pool: pool, lanes: 2, batchSize: 8)
        let caseload = DemoCaseload(seed: 5, asOf: CivilDate(iso: "2026-06-01")!, decider: repository.decider)
        let demos = (0..<12).map(caseload.generate)
        let caseIds = demos.map { _ in UUID() }
        let (repository, council) = (repository, council)
        for (demo, caseId) in zip(demos, caseIds) {
            let first = demo.history[0]
            _ = try await repository.record(
                CaseCommand(
                    council: council, caseId: caseId, command: LogEvent(first.event, on: first.occurredOn, by: first.actor, today: first.occurredOn)),
                pool: pool)
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (demo, caseId) in zip(demos, caseIds) {
                group.addTask {
                    for recorded in demo.history.dropFirst() {
                        let outcome = try await writer.record(
                            CaseCommand(
                                council: council, caseId: caseId,
                                command: LogEvent(recorded.event, on: recorded.occurredOn, by: recorded.actor, today: recorded.occurredOn)))
                        #expect(outcome.append.lastVersion == recorded.version)
                    }
                }
            }
            try await group.waitForAll()
        }
        let engine = repository.decider.engine
        for (demo, caseId) in zip(demos, caseIds) {
            let (stored, rows, version) = try await pool.transaction(council: council) { connection in
                (
                    try EventStore().readStream(caseId: caseId, on: connection),
                    try connection.query(
                        """
                        SELECT case_id::text, council_id::text, rule, kind, key, start_version::text, started_on::text, due_on::text, status,
                               met_on::text, moved_past_on::text, excepted::text, next_alert_on::text, advice_type, provider, review_outcome, caseworker, team,
                               k20w
                        FROM deadlines WHERE case_id = $1
                        """, [caseId]
                    ).rows.map { row in try (0..<19).map { try row.decodeIfPresent(String.self, at: $0) } },
                    try connection.query("SELECT version FROM case_summary WHERE case_id = $1", [caseId]).first!.decode(Int.self, at: 0)
                )
            }
            #expect(stored.map(\.version) == demo.history.map(\.version))
            #expect(stored.map(\.type) == demo.history.map(\.event.typeName))
            #expect(version == demo.history.count)
            let state = CaseState(history: demo.history)
            let expected = CaseProjector.deadlineText(
                DeadlineRow.rows(state: state, report: state.timelessDeadlines(engine), reminderDays: engine.settings.reminderDays),
                council: council, caseId: caseId)
            let normalise = { (rows: [[String?]]) in
                rows.map { $0.map { $0 == "t" ? "true" : $0 == "f" ? "false" : $0 } }.sorted { "\($0)" < "\($1)" }
            }
            #expect(normalise(rows) == normalise(expected))
            // The state the writer holds, built from the events it decided, is the state read back from storage.
            let held = writer.states.states(of: [caseId], council: council)[0]
            #expect(held?.history == CaseState(history: try stored.map { try $0.recorded() }).history)
            #expect(held?.history == demo.history)
        }
        // Group commit happened: fewer transactions than events.
        let (events, transactions) = try await pool.transaction(council: council) { connection in
            let row = try connection.query(
                "SELECT count(*), count(DISTINCT transaction_id) FROM events WHERE case_id = ANY($1::uuid[]) AND version > 1",
                [PostgresArray(caseIds.map(\.postgresText))]
            ).first!
            return (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1))
        }
        #expect(events == demos.map { $0.history.count - 1 }.reduce(0, +))
        #expect(transactions < events)
        #expect(writer.totals.commands == events)
        #expect(writer.totals.batches == transactions)
    }

    @Test("a refused event, a stale If-Match and an unknown case fail alone; the commands beside them commit")
    func failuresStayAlone() async throws {
        let pool = try database.pool(size: 4)
        defer { pool.shutdown() }
        let writer = CaseBatchWriter(repository: repository, pool: pool, lanes: 1, batchSize: 16)
        let caseIds = (0..<6).map { _ in UUID() }
        for caseId in caseIds.prefix(5) { try await open(caseId, pool: pool) }
        let assign = log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-04")
        let commands = [
            CaseCommand(council: council, caseId: caseIds[0], command: assign),
            CaseCommand(council: council, caseId: caseIds[1], command: log(.decidedToAssess, on: "2025-02-01")),
            CaseCommand(council: council, caseId: caseIds[2], command: assign, expectedVersion: 4),
            CaseCommand(council: council, caseId: caseIds[3], command: assign, expectedVersion: 1),
            CaseCommand(council: council, caseId: caseIds[4], command: assign),
            CaseCommand(council: council, caseId: caseIds[5], command: assign),
            CaseCommand(council: try database.addCouncil(), caseId: caseIds[0], command: assign),
        ]
        let results = await withTaskGroup(of: (Int, Result<CaseRepository.Outcome, any Error>).self) { group in
            for (index, command) in commands.enumerated() {
                group.addTask {
                    do { return (index, .success(try await writer.record(command))) } catch { return (index, .failure(error)) }
                }
            }
            return await group.reduce(into: [Int: Result<CaseRepository.Outcome, any Error>]()) { $0[$1.0] = $1.1 }
        }
        for index in [0, 3, 4] {
            #expect((try? results[index]!.get())?.append.lastVersion == 2, "command \(index)")
        }
        guard case .failure(CaseCommandError.rejected(let refusal)) = results[1]! else {
            Issue.record("\(results[1]!)")
            return
        }
        #expect(refusal.code == .beforeCaseOpened)
        guard case .failure(CaseCommandError.versionMismatch(expected: 4, actual: 1)) = results[2]! else {
            Issue.record("\(results[2]!)")
            return
        }
        guard case .failure(CaseCommandError.caseNotFound(caseIds[5])) = results[5]! else {
            Issue.record("\(results[5]!)")
            return
        }
        // Another council's writer cannot see council A's case, by any id.
        guard case .failure(CaseCommandError.caseNotFound(caseIds[0])) = results[6]! else {
            Issue.record("\(results[6]!)")
            return
        }
        let council = council
        let versions = try await pool.transaction(council: council) { connection in
            try connection.query(
                "SELECT case_id, version FROM case_summary WHERE case_id = ANY($1::uuid[])", [PostgresArray(caseIds.map(\.postgresText))]
            )
            .rows.reduce(into: [UUID: Int]()) { $0[try $1.decode(UUID.self, at: 0)] = try $1.decode(Int.self, at: 1) }
        }
        #expect(versions == [caseIds[0]: 2, caseIds[1]: 1, caseIds[2]: 1, caseIds[3]: 2, caseIds[4]: 2])
    }

    @Test("an event another writer appends between the batch's read and its write rolls the batch back; the command is re-run on fresh state")
    func raceWithAnotherWriter() async throws {
        let (pool, writer, caseId) = try await openedCase()
        defer { pool.shutdown() }
        // Another writer appends version 2 and holds its transaction open.
        let other = try database.connect()
        defer { other.close() }
        let opened = CaseState(history: try EventStore().readHistories(caseIds: [caseId], on: other)[caseId]!)
        let (theirs, _) = try repository.decide(
            state: opened, command: log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Bea", team: "South")), on: "2025-03-04"),
            expectedVersion: nil)
        try other.execute("BEGIN")
        _ = try EventStore().append(council: council, caseId: caseId, expectedVersion: 1, events: theirs.map(\.newEvent), on: other)

        // The batch reads version 1 (the other append is not committed), decides version 2, and waits on the head.
        let command = CaseCommand(
            council: council, caseId: caseId,
            command: log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-05"))
        let ours = Task { try await writer.record(command).append.lastVersion }
        let watcher = try database.connect()
        defer { watcher.close() }
        try await waitUntil("the batch waits on the other writer") { try lockWaiters(seenBy: watcher) > 0 }
        try other.execute("COMMIT")

        #expect(try await ours.value == 3)
        let stored = try EventStore().readHistories(caseIds: [caseId], on: watcher)[caseId]!
        #expect(stored.map(\.version) == [1, 2, 3])
        #expect(
            stored.dropFirst().map(\.event) == [
                .caseworkerAssigned(CaseworkerAssigned(caseworker: "Bea", team: "South")),
                .caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")),
            ])
        let summary = try watcher.query("SELECT version, caseworker FROM case_summary WHERE case_id = $1", [caseId]).first!
        #expect(try summary.decode(Int.self, at: 0) == 3)
        #expect(try summary.decode(String.self, at: 1) == "Ann")
        #expect(writer.totals.batches == 1)
    }

    @Test("a second lane runs beside a busy one only when enough commands wait to share its commit")
    func secondLaneThreshold() async throws {
        let pool = try database.pool(size: 4)
        defer { pool.shutdown() }
        let writer = CaseBatchWriter(repository: repository, pool: pool, lanes: 2, batchSize: 16, laneThreshold: 3)
        let caseIds = (0..<4).map { _ in UUID() }
        for caseId in caseIds { try await open(caseId, pool: pool) }
        let (council, reassignment) = (council, log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-04"))
        let assign: @Sendable (UUID) -> CaseCommand = { CaseCommand(council: council, caseId: $0, command: reassignment) }
        let watcher = try database.connect()
        defer { watcher.close() }

        // The first lane's batch waits on a stream head another transaction holds.
        let blocker = try database.connect()
        defer { blocker.close() }
        try blocker.execute("BEGIN")
        try blocker.query("UPDATE case_streams SET version = version WHERE case_id = $1", [caseIds[0]])
        let first = Task { try await writer.record(assign(caseIds[0])).append.lastVersion }
        try await waitUntil("the first batch waits on the lock") { try lockWaiters(seenBy: watcher) == 1 }

        // Two commands are fewer than the threshold: they wait for the busy lane.
        let early = [caseIds[1], caseIds[2]].map { caseId in Task { try await writer.record(assign(caseId)).append.lastVersion } }
        try await waitUntil("two commands wait") { writer.waiting == 2 }
        #expect(writer.totals.batches == 1)

        // A third reaches it: a second lane commits all three while the first is still blocked.
        let third = Task { try await writer.record(assign(caseIds[3])).append.lastVersion }
        for task in early + [third] { #expect(try await task.value == 2) }
        #expect(writer.totals == .init(batches: 2, commands: 4))
        #expect(try watcher.query("SELECT count(*) FROM events WHERE case_id = $1", [caseIds[0]]).first!.decode(Int.self, at: 0) == 1)

        try blocker.execute("COMMIT")
        #expect(try await first.value == 2)
        #expect(writer.totals == .init(batches: 2, commands: 4))
    }

    @Test("projection rows missing when a case changes (removed by a rebuild meanwhile) are written whole")
    func missingProjectionRows() async throws {
        let (pool, writer, caseId) = try await openedCase()
        defer { pool.shutdown() }
        let owner = try database.connect()
        defer { owner.close() }
        try owner.query("DELETE FROM deadlines WHERE case_id = $1", [caseId])
        try owner.query("DELETE FROM case_summary WHERE case_id = $1", [caseId])

        // A reassignment changes the open duties' caseworker: both the summary and those rows are updates that find nothing.
        _ = try await writer.record(
            CaseCommand(
                council: council, caseId: caseId,
                command: log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-04")))
        let summary = try owner.query("SELECT version, caseworker, reference FROM case_summary WHERE case_id = $1", [caseId]).first
        #expect(try summary?.decode(Int.self, at: 0) == 2)
        #expect(try summary?.decode(String.self, at: 1) == "Ann")
        #expect(try summary?.decode(String.self, at: 2) == CaseProjector.defaultReference(for: caseId))
        let rules = try owner.query(
            "SELECT rule, caseworker FROM deadlines WHERE case_id = $1 AND status = 'open' AND kind = 'duty' ORDER BY rule", [caseId]
        )
        .rows.map { try ($0.decode(String.self, at: 0), $0.decode(String.self, at: 1)) }
        #expect(rules.map(\.0) == ["R-DECIDE-6W", "R-DRAFT-LOCAL", "R-FINAL-20W", "R-NOPLAN-16W"])
        #expect(rules.map(\.1) == ["Ann", "Ann", "Ann", "Ann"])
    }

    @Test("idempotency keys: a replay returns the first append and writes nothing; a key reused for another request is refused")
    func idempotency() async throws {
        let pool = try database.pool(size: 4)
        defer { pool.shutdown() }
        let writer = CaseBatchWriter(repository: repository, pool: pool, lanes: 2, batchSize: 16)
        let (first, second) = (UUID(), UUID())
        try await open(first, pool: pool)
        try await open(second, pool: pool)
        let assign = log(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), on: "2025-03-04")
        let same = CaseCommand(council: council, caseId: first, command: assign, idempotency: Idempotency(key: "k-1", requestHash: "h-1"))
        async let a = writer.record(same)
        async let b = writer.record(same)
        let (one, two) = try await (a, b)
        #expect(one.append.firstPosition == two.append.firstPosition)
        #expect([one.append.replayed, two.append.replayed].sorted { !$0 && $1 } == [false, true])

        // The same key on two cases with different requests, at once: one lands, the other is refused,
        // whether they share a batch (the key's unique index rolls the batch back) or not.
        let onFirst = CaseCommand(council: council, caseId: first, command: assign, idempotency: Idempotency(key: "k-2", requestHash: "h-a"))
        let onSecond = CaseCommand(council: council, caseId: second, command: assign, idempotency: Idempotency(key: "k-2", requestHash: "h-b"))
        async let c = Result(catching: { try await writer.record(onFirst) })
        async let d = Result(catching: { try await writer.record(onSecond) })
        let outcomes = await [c, d]
        #expect(outcomes.filter { (try? $0.get()) != nil }.count == 1)
        #expect(outcomes.contains { if case .failure(StoreError.idempotencyKeyReused("k-2")) = $0 { true } else { false } })
        let council = council
        let count = try await pool.transaction(council: council) { connection in
            try connection.query(
                "SELECT count(*) FROM events WHERE case_id = ANY($1::uuid[])", [PostgresArray([first.postgresText, second.postgresText])]
            )
            .first!.decode(Int.self, at: 0)
        }
        #expect(count == 4)  // two openings, k-1 once, k-2 once
    }
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
