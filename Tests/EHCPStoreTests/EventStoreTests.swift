import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Event store")
struct EventStoreTests {
    let database: TestDatabase
    let council: UUID
    let store = EventStore()

    init() throws {
        database = try TestDatabase.make()
        council = try database.addCouncil()
    }

    func event(_ n: Int) -> NewEvent {
        NewEvent(type: "CaseworkerAssigned", data: #"{"caseworker":"cw\#(n)"}"#, occurredOn: "2025-03-03", actor: "tester")
    }

    @Test("appended events read back in order with their versions")
    func appendAndRead() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        let council = council
        let first = try await pool.withConnection {
            try store.transaction(council: council, on: $0) {
                try store.append(council: council, caseId: caseId, expectedVersion: 0, events: [event(1), event(2)], on: $0)
            }
        }
        let second = try await pool.withConnection {
            try store.transaction(council: council, on: $0) {
                try store.append(council: council, caseId: caseId, expectedVersion: 2, events: [event(3)], on: $0)
            }
        }
        #expect((first.firstVersion, first.lastVersion, second.firstVersion, second.lastVersion) == (1, 2, 3, 3))
        #expect(second.firstPosition > first.lastPosition)
        let stream = try await pool.transaction { connection in
            try store.setCouncil(council, on: connection)
            return try store.readStream(caseId: caseId, on: connection)
        }
        #expect(stream.map(\.version) == [1, 2, 3])
        #expect(stream.map(\.data) == [#"{"caseworker": "cw1"}"#, #"{"caseworker": "cw2"}"#, #"{"caseworker": "cw3"}"#])
        #expect(stream.allSatisfy { $0.councilId == council && $0.occurredOn == "2025-03-03" && $0.actor == "tester" })
    }

    @Test("20 appenders racing on one case: one wins each round, the rest get a conflict, versions have no gaps")
    func racingAppenders() async throws {
        let pool = try database.pool(size: 20)
        defer { pool.shutdown() }
        let caseId = UUID()
        let council = council
        _ = try await pool.withConnection {
            try store.transaction(council: council, on: $0) {
                try store.append(council: council, caseId: caseId, expectedVersion: 0, events: [event(0)], on: $0)
            }
        }
        // Round one: everyone believes the case is at version 1.
        let outcomes = await withTaskGroup(of: Result<AppendResult, any Error>.self) { group in
            for n in 1...20 {
                group.addTask {
                    do {
                        return .success(
                            try await pool.transaction(council: council) {
                                try store.append(council: council, caseId: caseId, expectedVersion: 1, events: [event(n)], on: $0)
                            })
                    } catch { return .failure(error) }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let winners = outcomes.filter { if case .success = $0 { true } else { false } }
        #expect(winners.count == 1)
        for case .failure(let error) in outcomes {
            guard case StoreError.concurrencyConflict(let id, let expected, _) = error else {
                Issue.record("loser got \(error), not a conflict")
                continue
            }
            #expect(id == caseId && expected == 1)
        }
        // Round two: the losers retry on fresh state until they succeed.
        await withTaskGroup(of: Void.self) { group in
            for n in 21...39 {
                group.addTask {
                    while true {
                        do {
                            _ = try await pool.transaction(council: council) { connection in
                                try store.setCouncil(council, on: connection)
                                let version = try store.readStream(caseId: caseId, on: connection).count
                                return try store.append(
                                    council: council, caseId: caseId, expectedVersion: version, events: [event(n)], on: connection)
                            }
                            return
                        } catch StoreError.concurrencyConflict { continue } catch {
                            Issue.record("\(error)")
                            return
                        }
                    }
                }
            }
        }
        let versions = try await pool.transaction { connection in
            try store.setCouncil(council, on: connection)
            return try store.readStream(caseId: caseId, on: connection).map(\.version)
        }
        #expect(versions == Array(1...21))
    }

    @Test("an append after a version the stream is not at, or to another council's case, is a conflict and writes nothing")
    func appendChecksTheHead() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let (caseId, council, other) = (UUID(), council, try database.addCouncil())
        _ = try await pool.transaction(council: council) {
            try store.append(council: council, caseId: caseId, expectedVersion: 0, events: [event(1), event(2), event(3)], on: $0)
        }
        for (acting, expected) in [(council, 5), (council, 1), (other, 3), (other, 0)] {
            do {
                _ = try await pool.transaction(council: acting) {
                    try store.append(council: acting, caseId: caseId, expectedVersion: expected, events: [event(9)], on: $0)
                }
                Issue.record("an append acting for \(acting == council ? "its" : "another") council after version \(expected) was written")
            } catch StoreError.concurrencyConflict {
            }
        }
        let (head, events) = try await pool.transaction(council: council) { connection in
            (
                try connection.query("SELECT version FROM case_streams WHERE case_id = $1", [caseId]).first!.decode(Int.self, at: 0),
                try store.readStream(caseId: caseId, on: connection).map(\.version)
            )
        }
        #expect(head == 3 && events == [1, 2, 3])
    }

    @Test("the same idempotency key and request returns the first result and writes nothing; a different request is refused")
    func idempotency() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        let council = council
        let first = try await pool.transaction(council: council) {
            try store.append(
                council: council, caseId: caseId, expectedVersion: 0, events: [event(1)], idempotencyKey: "k1", requestHash: "h1", on: $0)
        }
        let replay = try await pool.transaction(council: council) {
            try store.append(
                council: council, caseId: caseId, expectedVersion: 0, events: [event(1)], idempotencyKey: "k1", requestHash: "h1", on: $0)
        }
        #expect(replay.replayed)
        #expect((replay.firstPosition, replay.lastVersion) == (first.firstPosition, first.lastVersion))
        await #expect(throws: StoreError.self) {
            try await pool.transaction(council: council) {
                try store.append(
                    council: council, caseId: caseId, expectedVersion: 1, events: [event(2)], idempotencyKey: "k1", requestHash: "other", on: $0)
            }
        }
        let count = try await pool.transaction { connection in
            try store.setCouncil(council, on: connection)
            return try store.readStream(caseId: caseId, on: connection).count
        }
        #expect(count == 1)
    }

    @Test("a global reader never skips an event whose transaction commits late")
    func globalReaderWaitsForLateCommits() throws {
        let slow = try database.connect()
        let fast = try database.connect()
        let reader = try database.connect()
        try slow.execute("BEGIN")
        _ = try store.append(council: council, caseId: UUID(), expectedVersion: 0, events: [event(1)], on: slow)  // takes the lower position
        _ = try fast.transaction { try store.append(council: council, caseId: UUID(), expectedVersion: 0, events: [event(2)], on: $0) }
        let early = try store.readGlobal(after: .start, on: reader)
        #expect(early.events.isEmpty, "the committed later event must wait for the earlier transaction still in flight")
        try slow.execute("COMMIT")
        // Other tests' transactions in the same cluster can hold the horizon back a moment: poll.
        var late: [StoredEvent] = []
        var cursor = early.cursor
        let deadline = ContinuousClock.now + .seconds(30)
        while late.count < 2 && ContinuousClock.now < deadline {
            let page = try store.readGlobal(after: cursor, on: reader)
            late += page.events
            cursor = page.cursor
        }
        #expect(late.map(\.data) == [#"{"caseworker": "cw1"}"#, #"{"caseworker": "cw2"}"#])
    }

    @Test("a global reader sees every event exactly once while writers run concurrently")
    func globalReaderUnderLoad() async throws {
        let pool = try database.pool(size: 8, asApplication: false)
        defer { pool.shutdown() }
        let council = council
        let writers = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        let caseId = UUID()
                        for version in 0..<100 {
                            _ = try await pool.transaction(council: council) {
                                try store.append(council: council, caseId: caseId, expectedVersion: version, events: [event(version)], on: $0)
                            }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        let reader = try database.connect()
        var cursor = GlobalCursor.start
        var seen: [Int64] = []
        /// Reads pages of `limit` until all 600 are seen or `seconds` pass.
        func readOn(for seconds: Int, limit: Int) async throws {
            let deadline = ContinuousClock.now + .seconds(seconds)
            while seen.count < 600 && ContinuousClock.now < deadline {
                let page = try store.readGlobal(after: cursor, limit: limit, on: reader)
                seen += page.events.map(\.globalPosition)
                cursor = page.cursor
                if page.events.isEmpty { await Task.yield() }
            }
        }
        try await readOn(for: 60, limit: 50)
        try await writers.value
        // The reader is held back while any older transaction on the cluster is open (another test's, here),
        // never past it: read on until the rest has come, or the deadline passes.
        try await readOn(for: 30, limit: 1000)
        #expect(seen.count == 600)
        #expect(Set(seen).count == 600)
    }
}
