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
    ///   - requireExisting: refuse (`caseNotFound`) rather than open a case that does not exist.
    ///   - beforeAppend: rows the events' projections refer to (a new case's child), written after the
    ///     decision and before the append, in the same transaction.
    public func record(
        _ command: CaseCommand, requireExisting: Bool = false, beforeAppend: ((PostgresConnection) throws -> Void)? = nil,
        on connection: PostgresConnection
    ) throws -> Outcome {
        // The command's one read of its key, before anything is decided: a replay is answered as it was.
        if let once = command.idempotency,
            let earlier = try store.replayed(council: command.council, key: once.key, requestHash: once.requestHash, on: connection)
        {
            return Outcome(caseId: earlier.caseId, append: earlier, state: try load(caseId: earlier.caseId, on: connection) ?? CaseState())
        }
        let state = try load(caseId: command.caseId, on: connection) ?? CaseState()
        if requireExisting && state.version == 0 { throw CaseCommandError.caseNotFound(command.caseId) }
        return try record(command, state: state, beforeAppend: beforeAppend, on: connection)
    }

    /// Records one command on a case whose state was just loaded in this transaction: decides, runs
    /// `beforeAppend`, and sends the append (with the key, if any) and the projections in one round trip.
    /// The append's head check guards against a stale state.
    func record(
        _ command: CaseCommand, state: CaseState, beforeAppend: ((PostgresConnection) throws -> Void)? = nil, on connection: PostgresConnection
    ) throws -> Outcome {
        let (newEvents, next) = try decide(state: state, command: command.command, expectedVersion: command.expectedVersion)
        try beforeAppend?(connection)
        var projections = ProjectionChanges()
        let firstAlert = projections.add(
            council: command.council, caseId: command.caseId, reference: command.opening?.reference, childId: command.opening?.childId,
            previous: state, state: next, engine: decider.engine)
        var alongside = projector.statements(projections)
        if Self.wakesScheduler(firstAlert: firstAlert, events: newEvents, today: command.command.today) {
            alongside.append(Self.wakeScheduler(council: command.council))
        }
        let append = try store.write(
            council: command.council, caseId: command.caseId, expectedVersion: state.version, events: newEvents.map(\.newEvent),
            idempotency: command.idempotency, alongside: alongside, on: connection)
        return Outcome(caseId: command.caseId, append: append, state: next)
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
    public func record(_ command: CaseCommand, requireExisting: Bool = false, pool: PostgresPool, attempts: Int = 32) async throws -> Outcome {
        let rerunsOnConflict = command.expectedVersion == nil || command.idempotency != nil
        var attempt = 0
        while true {
            attempt += 1
            do {
                return try await pool.withConnection { connection in
                    try store.transaction(council: command.council, genericPlans: true, on: connection) { connection in
                        try record(command, requireExisting: requireExisting, on: connection)
                    }
                }
            } catch StoreError.concurrencyConflict where rerunsOnConflict && attempt < attempts {
                continue  // with If-Match, only a keyed request runs again: a request with its key may have won, and is replayed
            } catch  where StoreError.isKeyRace(error) && attempt < attempts {
                continue  // a concurrent request with the same key committed first: the next pass replays it
            }
        }
    }
}
