import EHCPDomain
import Foundation
import Postgres
import TestSupport
import Testing

@testable import EHCPStore

@Suite("Case states held between batches: only newer events are read, and a state never crosses councils")
struct CaseStateCacheTests: CaseSuite {
    let database: TestDatabase
    let council: UUID

    init() throws { (database, council) = try Self.freshCouncil() }

    func assign(_ caseworker: String, on day: String) -> LogEvent {
        log(.caseworkerAssigned(CaseworkerAssigned(caseworker: caseworker, team: "North")), on: day)
    }

    func open(_ caseId: UUID, council: UUID, pool: PostgresPool) async throws {
        _ = try await repository.record(
            CaseCommand(council: council, caseId: caseId, command: log(.requestReceived(RequestReceived(requestSource: .parent)), on: "2025-03-03")),
            pool: pool)
    }

    /// A pool, a one-lane writer on it, and a case opened through the repository whose second event the
    /// writer recorded (so the writer holds its state at version 2).
    func caseWrittenByTheWriter() async throws -> (PostgresPool, CaseBatchWriter, UUID) {
        let pool = try database.pool(size: 4)
        let writer = CaseBatchWriter(repository: repository, pool: pool, lanes: 1, batchSize: 16)
        let caseId = UUID()
        try await open(caseId, council: council, pool: pool)
        _ = try await writer.record(.init(council: council, caseId: caseId, command: assign("Ann", on: "2025-03-04")))
        return (pool, writer, caseId)
    }

    /// Takes the case back to version 1, as a restore from last night's backup, or a failover to a
    /// standby that had not received version 2, would.
    func loseVersion2(of caseId: UUID, on owner: PostgresConnection) throws {
        try owner.execute("BEGIN")
        try owner.query("DELETE FROM events WHERE case_id = $1 AND version = 2", [caseId])
        try owner.query("UPDATE case_streams SET version = 1 WHERE case_id = $1", [caseId])
        try owner.execute("COMMIT")
    }

    /// The case's state folded from what is stored, as a fresh reader sees it.
    func storedState(_ caseId: UUID, council: UUID, pool: PostgresPool) async throws -> CaseState? {
        try await pool.transaction(council: council) { connection in try repository.load(caseId: caseId, on: connection) }
    }

    @Test("events another path appends after a batch are read and folded onto the held state before the next command is decided")
    func newerEventsFolded() async throws {
        let (pool, writer, caseId) = try await caseWrittenByTheWriter()
        defer { pool.shutdown() }
        #expect(writer.states.states(of: [caseId], council: council).first??.version == 2)

        // One transaction outside the writer (as the scheduler or a new case's request does) appends version 3.
        _ = try await repository.record(CaseCommand(council: council, caseId: caseId, command: assign("Bea", on: "2025-03-05")), pool: pool)

        // If-Match 3 holds only if the writer saw version 3; a held state alone would say 2.
        let outcome = try await writer.record(.init(council: council, caseId: caseId, command: assign("Cal", on: "2025-03-06"), expectedVersion: 3))
        #expect(outcome.append.lastVersion == 4)
        let held = try #require(writer.states.states(of: [caseId], council: council).first ?? nil)
        let stored = try #require(try await storedState(caseId, council: council, pool: pool))
        #expect(held.history == stored.history)
        #expect(held.facts.caseworker == "Cal")
        #expect(writer.totals.batches == 2)
    }

    @Test("a state held for one council is not used for another council's command on the same case id: it is not found, and nothing is written")
    func councilsKeptApart() async throws {
        let (pool, writer, caseId) = try await caseWrittenByTheWriter()
        defer { pool.shutdown() }
        #expect(writer.states.count == 1)

        let other = try database.addCouncil()
        do {
            _ = try await writer.record(.init(council: other, caseId: caseId, command: assign("Eve", on: "2025-03-05")))
            Issue.record("council B's command on council A's case was recorded")
        } catch CaseCommandError.caseNotFound(let missing) {
            #expect(missing == caseId)
        }
        let owner = try database.connect()
        defer { owner.close() }
        let rows = try owner.query("SELECT council_id, version FROM events WHERE case_id = $1 ORDER BY version", [caseId]).rows
        #expect(try rows.map { try $0.decode(UUID.self, at: 0) } == [council, council])
        #expect(writer.states.states(of: [caseId], council: other).map { $0 == nil } == [true])
    }

    @Test("corrections and retractions folded onto a held state give the state read back from storage")
    func correctionsOnAHeldState() async throws {
        let (pool, writer, caseId) = try await caseWrittenByTheWriter()
        defer { pool.shutdown() }
        let commands = [
            assign("Bea", on: "2025-03-05"),
            log(
                .eventCorrected(
                    EventCorrected(
                        targetVersion: 2, occurredOn: CivilDate(iso: "2025-03-03"),
                        data: .object(["caseworker": .string("Abe"), "team": .string("South")]), reason: "wrong name")),
                on: "2025-03-06"),
            log(.eventRetracted(EventRetracted(targetVersion: 3, reason: "logged on the wrong case")), on: "2025-03-06"),
        ]
        for command in commands { _ = try await writer.record(.init(council: council, caseId: caseId, command: command)) }
        let held = try #require(writer.states.states(of: [caseId], council: council).first ?? nil)
        let stored = try #require(try await storedState(caseId, council: council, pool: pool))
        #expect(held.version == 5)
        #expect(held.history == stored.history)
        #expect(held.effective == stored.effective)
        #expect(held.facts.caseworker == "Abe")
        #expect(held.facts.team == "South")
    }

    @Test(
        "a held state ahead of the database (a restore under a running server) is forgotten; the command is decided on the stored stream, leaving no gap"
    )
    func heldStateAheadOfTheDatabase() async throws {
        let (pool, writer, caseId) = try await caseWrittenByTheWriter()
        defer { pool.shutdown() }
        #expect(writer.states.states(of: [caseId], council: council).first??.version == 2)

        // The database goes back to version 1, as a restore from last night's backup would take it.
        let owner = try database.connect()
        defer { owner.close() }
        try loseVersion2(of: caseId, on: owner)

        let outcome = try await writer.record(.init(council: council, caseId: caseId, command: assign("Bea", on: "2025-03-05")))
        #expect(outcome.append.lastVersion == 2)
        let versions = try owner.query("SELECT version FROM events WHERE case_id = $1 ORDER BY version", [caseId]).rows.map {
            try $0.decode(Int.self, at: 0)
        }
        #expect(versions == [1, 2])
        #expect(writer.states.states(of: [caseId], council: council).map { $0 == nil } == [true])
        // The next command holds the stored state again.
        _ = try await writer.record(.init(council: council, caseId: caseId, command: assign("Cal", on: "2025-03-06")))
        let held = try #require(writer.states.states(of: [caseId], council: council).first ?? nil)
        #expect(held.history == (try await storedState(caseId, council: council, pool: pool))?.history)
    }

    @Test(
        "a held state whose last event the database lost and replaced by another at the same version is not decided on"
    )
    func heldStateReplacedAtTheSameVersion() async throws {
        let (pool, writer, caseId) = try await caseWrittenByTheWriter()
        defer { pool.shutdown() }
        #expect(writer.states.states(of: [caseId], council: council).first??.facts.caseworker == "Ann")

        // A failover loses version 2 (Ann assigned); another writer then stores a different version 2
        // (Zoe assigned) on the new primary, so the head is at version 2 again but with other facts.
        let owner = try database.connect()
        defer { owner.close() }
        try loseVersion2(of: caseId, on: owner)
        _ = try await repository.record(CaseCommand(council: council, caseId: caseId, command: assign("Zoe", on: "2025-03-04")), pool: pool)

        _ = try await writer.record(.init(council: council, caseId: caseId, command: log(.decidedToAssess, on: "2025-03-05")))
        let stored = try #require(try await storedState(caseId, council: council, pool: pool))
        #expect(stored.version == 3 && stored.facts.caseworker == "Zoe")
        // Decided on the stored stream: what the writer holds now is what storage says, not Ann's lost assignment.
        let held = writer.states.states(of: [caseId], council: council).first ?? nil
        #expect(held == nil || held?.history == stored.history)
        _ = try await writer.record(.init(council: council, caseId: caseId, command: assign("Cal", on: "2025-03-06")))
        let after = try #require(writer.states.states(of: [caseId], council: council).first ?? nil)
        #expect(after.history == (try await storedState(caseId, council: council, pool: pool))?.history)
    }

    @Test("reading ahead holds the open cases of every council, most recently changed first, up to one generation")
    func holdOpenCases() async throws {
        let pool = try database.pool(size: 4)
        defer { pool.shutdown() }
        let other = try database.addCouncil(code: "ZZZZ")  // after the test council's code: read second
        let ours = (0..<3).map { _ in UUID() }
        let theirs = (0..<2).map { _ in UUID() }
        for caseId in ours { try await open(caseId, council: council, pool: pool) }
        for caseId in theirs { try await open(caseId, council: other, pool: pool) }
        let withdrawn = UUID()
        try await open(withdrawn, council: council, pool: pool)
        _ = try await repository.record(
            CaseCommand(council: council, caseId: withdrawn, command: log(.requestWithdrawn(Reason(reason: "moved away")), on: "2025-03-04")),
            pool: pool)
        // The first case changes last: it is the most recently changed.
        _ = try await repository.record(CaseCommand(council: council, caseId: ours[0], command: assign("Ann", on: "2025-03-05")), pool: pool)

        let writer = CaseBatchWriter(repository: repository, pool: pool, cachedCases: 64)
        #expect(try await writer.holdOpenCases(chunk: 2) == 5)
        for (caseIds, owner) in [(ours, council), (theirs, other)] {
            let held = writer.states.states(of: caseIds, council: owner)
            for (caseId, state) in zip(caseIds, held) {
                let stored = try await storedState(caseId, council: owner, pool: pool)
                #expect(state?.history == stored?.history)
            }
        }
        #expect(writer.states.states(of: [withdrawn], council: council).map { $0 == nil } == [true])
        #expect(writer.states.states(of: theirs, council: council).map { $0 == nil } == [true, true])

        // One case's room: the first council's most recently changed open case.
        let small = CaseBatchWriter(repository: repository, pool: pool, cachedCases: 1)
        #expect(try await small.holdOpenCases() == 1)
        #expect(small.states.states(of: [ours[0]], council: council).first??.version == 2)
    }

    @Test("the bounded map replaces a key's value wherever it is held and keeps at most two generations")
    func generations() {
        let cache = GenerationalCache<String, Int>(generationSize: 2)
        cache.insert([("a", 1), ("b", 2)])
        cache.insert([("c", 3)])  // the first generation is full: a and b become the older one
        cache.insert([("a", 9)])
        #expect(cache.values(for: ["a", "b", "c", "z"]) == [9, 2, 3, nil])
        #expect(cache.count == 3)
        cache.insert([("d", 4), ("e", 5)])
        #expect(cache.count <= 4)
        #expect(cache.values(for: ["e"]) == [5])
        cache.remove(["e", "c"])
        #expect(cache.values(for: ["e", "c"]) == [nil, nil])
    }
}
