import EHCPDomain
import Foundation
import Postgres

/// Records events on cases: load the stream, fold, decide, append with projections, in one transaction.
public struct CaseRepository: Sendable {
    public let decider: CaseDecider
    public let store = EventStore()
    public let projector = CaseProjector()

    public init(decider: CaseDecider) { self.decider = decider }

    /// The NOTIFY channel that wakes the deadline scheduler.
    public static let schedulerChannel = "ehcp_scheduler"

    /// Wakes the deadline scheduler for a council when the transaction commits (the one NOTIFY the service sends).
    static func wakeScheduler(council: UUID) -> PostgresConnection.Statement {
        .init("SELECT pg_notify($1, $2)", [schedulerChannel, council.postgresText])
    }

    /// What recording an event produced.
    public struct Outcome: Sendable {
        public var caseId: UUID
        public var append: AppendResult
        public var state: CaseState
    }

    /// Loads a case's state (nil when the case does not exist for the council set on the transaction).
    public func load(caseId: UUID, on connection: PostgresConnection) throws -> CaseState? {
        guard let history = try store.readHistories(caseIds: [caseId], on: connection)[caseId] else { return nil }
        return CaseState(history: history)
    }

    /// Records one command on a case inside the caller's council transaction (`EventStore.transaction`).
    ///
    /// - Parameters:
    ///   - expectedVersion: the version the client saw (`If-Match`); nil lets the caller retry on fresh
    ///     state after a lost race.
    ///   - requireExisting: refuse (`caseNotFound`) rather than open a case that does not exist.
    public func record(
        council: UUID, caseId: UUID, command: LogEvent, expectedVersion: Int? = nil, idempotencyKey: String? = nil,
        requestHash: String = "", reference: String? = nil, childId: UUID? = nil, requireExisting: Bool = false,
        beforeAppend: ((PostgresConnection) throws -> Void)? = nil, on connection: PostgresConnection
    ) throws -> Outcome {
        // The command's one read of its key, before anything is decided: a replay is answered as it was.
        if let key = idempotencyKey, let earlier = try store.replayed(council: council, key: key, requestHash: requestHash, on: connection) {
            return Outcome(caseId: earlier.caseId, append: earlier, state: try load(caseId: earlier.caseId, on: connection) ?? CaseState())
        }
        let state = try load(caseId: caseId, on: connection) ?? CaseState()
        if requireExisting && state.version == 0 { throw CaseCommandError.caseNotFound(caseId) }
        return try write(
            council: council, caseId: caseId, state: state, command: command, expectedVersion: expectedVersion, idempotencyKey: idempotencyKey,
            requestHash: requestHash, reference: reference, childId: childId, beforeAppend: beforeAppend, on: connection)
    }

    /// Records one command on a case whose state the caller has just loaded in this transaction (the
    /// scheduler loads many at once). The append's expected version guards against a stale state.
    public func record(council: UUID, caseId: UUID, state: CaseState, command: LogEvent, on connection: PostgresConnection) throws -> Outcome {
        try write(
            council: council, caseId: caseId, state: state, command: command, expectedVersion: nil, idempotencyKey: nil, requestHash: "",
            reference: nil, childId: nil, beforeAppend: nil, on: connection)
    }

    /// Decides, runs the caller's `beforeAppend` (rows the events' projections refer to, such as a new
    /// case's child), appends (with the key, if any), and writes the projections: one command's write.
    private func write(
        council: UUID, caseId: UUID, state: CaseState, command: LogEvent, expectedVersion: Int?, idempotencyKey: String?, requestHash: String,
        reference: String?, childId: UUID?, beforeAppend: ((PostgresConnection) throws -> Void)?, on connection: PostgresConnection
    ) throws -> Outcome {
        let (newEvents, next) = try decide(state: state, command: command, expectedVersion: expectedVersion)
        try beforeAppend?(connection)
        var projections = ProjectionChanges()
        let firstAlert = projections.add(
            council: council, caseId: caseId, reference: reference, childId: childId, previous: state, state: next, engine: decider.engine)
        var alongside = projector.statements(projections)
        if Self.wakesScheduler(firstAlert: firstAlert, events: newEvents, today: command.today) {
            alongside.append(Self.wakeScheduler(council: council))
        }
        // One round trip: the append, the key and the projections.
        let append = try store.write(
            council: council, caseId: caseId, expectedVersion: state.version, events: newEvents.map(\.newEvent),
            idempotencyKey: idempotencyKey, requestHash: requestHash, alongside: alongside, on: connection)
        return Outcome(caseId: caseId, append: append, state: next)
    }
}

extension CaseRepository {
    /// Checks the version the client saw (`If-Match`) and asks the domain: the events to append and the
    /// state after them.
    func decide(state: CaseState, command: LogEvent, expectedVersion: Int?) throws(CaseCommandError) -> (events: [RecordedEvent], next: CaseState) {
        if let expectedVersion, expectedVersion != state.version {
            throw .versionMismatch(expected: expectedVersion, actual: state.version)
        }
        let newEvents: [RecordedEvent]
        do {
            newEvents = try decider.decide(state, command)
        } catch {
            throw .rejected(error)
        }
        var next = state
        for event in newEvents { next.evolve(event) }
        return (newEvents, next)
    }

    /// Whether a write should wake the scheduler when it commits: one of its deadline rows is already due
    /// (a back-dated event). The scheduler's own records never do.
    static func wakesScheduler(firstAlert: CivilDate?, events: [RecordedEvent], today: CivilDate) -> Bool {
        guard let firstAlert, firstAlert <= today else { return false }
        return !events.contains(where: \.event.isSchedulerRecord)
    }

    /// Records a command through a pool, re-running it on fresh state when another writer won a race
    /// (only when the client did not pin a version with `If-Match`), or when a request with the same
    /// idempotency key committed first (the re-run replays it). Every round of a race has a winner,
    /// so `attempts` bounds how many writers may contend at once before the caller sees the conflict.
    public func record(
        council: UUID, caseId: UUID, command: LogEvent, expectedVersion: Int? = nil, idempotencyKey: String? = nil,
        requestHash: String = "", reference: String? = nil, childId: UUID? = nil, requireExisting: Bool = false, pool: PostgresPool,
        attempts: Int = 32
    ) async throws -> Outcome {
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await pool.withConnection { connection in
                    try store.transaction(council: council, genericPlans: true, on: connection) { connection in
                        try record(
                            council: council, caseId: caseId, command: command, expectedVersion: expectedVersion,
                            idempotencyKey: idempotencyKey, requestHash: requestHash, reference: reference, childId: childId,
                            requireExisting: requireExisting, on: connection)
                    }
                }
            } catch StoreError.concurrencyConflict where (expectedVersion == nil || idempotencyKey != nil) && attempt < attempts {
                continue  // with If-Match, only a keyed request runs again: a request with its key may have won, and is replayed
            } catch StoreError.database(let error) where error.constraint == "idempotency_keys_pkey" && attempt < attempts {
                continue  // a concurrent request with the same key committed first: the next pass replays it
            }
        }
    }
}
