import CoreMetrics
import EHCPDomain
import Foundation
import Postgres
import Synchronization

/// Records commands on existing cases in batches: one transaction, and one commit, for many commands.
///
/// A command on its own pays for a whole transaction: BEGIN, reading its stream, five statements, and
/// COMMIT with its WAL flush. Under load that per-statement work, not the rows, is what fills the
/// database's cores. The writer queues commands and runs them in up to `lanes` concurrent batches of at
/// most `batchSize`, one council and one command per case in each. The first lane starts at once; another
/// starts beside a running one only when at least `laneThreshold` commands are waiting, and a lane that
/// would take fewer while another runs stops, leaving them to the next batch: two lanes overlap one batch's
/// folding with another's commit, but two half-size batches cost the database nearly twice the statements
/// of one. A batch is one transaction in two round trips (libpq pipelines):
///
/// 1. it opens the transaction for the council and reads, in one query and without a lock, each case's
///    events after the version the writer already holds folded (`CaseStateCache`), or its whole stream;
/// 2. it folds those events onto the held state, checks that the result is at the stream's head (a case
///    that is not is left to the repository), and decides each command (a refusal, a stale `If-Match`
///    or an unknown case fails that command alone);
/// 3. it appends every case's events and moves their heads in one statement, writes the idempotency keys
///    and the projections with one statement per table, and commits. The events' unique
///    `(case_id, version)` is the concurrency check: if another writer appended to one of the cases after
///    step 1, this batch's event takes a version already used and the server rolls the batch back.
///
/// Outcomes are exactly those of `CaseRepository.record`: a used idempotency key is read with the same
/// statement (`EventStore.keysRead`) and replayed or refused as there, and when a batch fails as a whole
/// because the server rolled it back (an event or a key inserted by another writer meanwhile, a
/// deadlock), each of its commands is re-run alone through the repository.
public final class CaseBatchWriter: Sendable {
    private struct Pending: Sendable {
        var command: CaseCommand
        var continuation: CheckedContinuation<CaseRepository.Outcome, any Error>
    }

    private struct Queue: Sendable {
        var pending: [Pending] = []
        var runningLanes = 0
        /// Cases in a batch being written: a second command on one waits for the next batch.
        var busy: Set<UUID> = []
        var totals = Totals()
    }

    /// How many batches have been formed, and how many commands they held (their ratio is the
    /// benefit of group commit: commands sharing a commit).
    public struct Totals: Sendable, Equatable {
        public var batches = 0
        public var commands = 0
    }

    /// The batches and commands so far.
    public var totals: Totals { queue.withLock { $0.totals } }

    public let repository: CaseRepository
    public let pool: PostgresPool
    public let lanes: Int
    public let batchSize: Int
    /// Commands that must be waiting for a lane to run beside another (see the type's documentation).
    public let laneThreshold: Int
    /// The folded states of cases this writer has read or written.
    let states: CaseStateCache
    private let queue = Mutex(Queue())

    /// Commands queued and not yet in a batch.
    public var waiting: Int { queue.withLock { $0.pending.count } }

    /// - Parameters:
    ///   - cachedCases: how many cases' folded states to hold, per generation (`CaseStateCache`).
    ///   - metrics: where held states' hits and misses are counted (`ehcp_case_states_held_total`).
    public init(
        repository: CaseRepository, pool: PostgresPool, lanes: Int = 2, batchSize: Int = 64, laneThreshold: Int = 6, cachedCases: Int = 16_384,
        metrics: any MetricsFactory = NOOPMetricsHandler.instance
    ) {
        precondition(lanes > 0 && batchSize > 0 && laneThreshold > 0)
        self.repository = repository
        self.pool = pool
        self.lanes = lanes
        self.batchSize = batchSize
        self.laneThreshold = laneThreshold
        self.states = CaseStateCache(generationSize: cachedCases, metrics: metrics)
    }

    /// Records `command` with the next batch; returns when that batch has committed.
    ///
    /// - Throws: `CaseCommandError` (`rejected`, `versionMismatch`, `caseNotFound`), `StoreError` or
    ///   `PostgresError`, as `CaseRepository.record(…, requireExisting: true, pool:)` would.
    public func record(_ command: CaseCommand) async throws -> CaseRepository.Outcome {
        try await withCheckedThrowingContinuation { continuation in
            let startsLane = queue.withLock { queue in
                queue.pending.append(Pending(command: command, continuation: continuation))
                guard queue.runningLanes == 0 || (queue.runningLanes < lanes && queue.pending.count >= laneThreshold) else { return false }
                queue.runningLanes += 1
                return true
            }
            if startsLane { Task { await runLane() } }
        }
    }

    /// Takes batches until none can be formed, or until too few commands wait to share with another
    /// running lane. Commands left waiting are taken by that lane when its batch is done.
    private func runLane() async {
        while let batch = nextBatch() {
            let results = await write(batch.map(\.command))
            queue.withLock { queue in
                for pending in batch { queue.busy.remove(pending.command.caseId) }
            }
            for (pending, result) in zip(batch, results) { pending.continuation.resume(with: result) }
        }
    }

    private func nextBatch() -> [Pending]? {
        queue.withLock { queue -> [Pending]? in
            if queue.runningLanes > 1 && queue.pending.count < laneThreshold {
                queue.runningLanes -= 1
                return nil
            }
            var batch: [Pending] = []
            var council: UUID?
            var taken = Set<UUID>()
            var index = 0
            while index < queue.pending.count && batch.count < batchSize {
                let command = queue.pending[index].command
                if !queue.busy.contains(command.caseId), !taken.contains(command.caseId), council == nil || council == command.council {
                    council = command.council
                    taken.insert(command.caseId)
                    batch.append(queue.pending.remove(at: index))
                } else {
                    index += 1
                }
            }
            guard !batch.isEmpty else {
                queue.runningLanes -= 1
                return nil
            }
            queue.busy.formUnion(taken)
            queue.totals.batches += 1
            queue.totals.commands += batch.count
            return batch
        }
    }

    /// Writes one batch; falls back to one transaction per command when the server rolled the batch back,
    /// so one command's failure (a value PostgreSQL refuses, a unique violation, a deadlock) is that
    /// command's alone and never its neighbours'.
    private func write(_ commands: [CaseCommand]) async -> [Result<CaseRepository.Outcome, any Error>] {
        var results: [Result<CaseRepository.Outcome, any Error>?]
        do {
            results = try await pool.withConnection { [repository, states] connection in
                try Self.write(commands, repository: repository, states: states, on: connection)
            }
        } catch let error as PostgresError where Self.isRolledBackWhole(error) {
            results = Array(repeating: nil, count: commands.count)
        } catch {
            return commands.map { _ in .failure(error) }
        }
        // Commands the batch left to the repository: replayed idempotency keys, or the whole batch.
        for index in results.indices {
            guard case .none = results[index] else { continue }
            let command = commands[index]
            do {
                results[index] = .success(
                    try await repository.record(command, requireExisting: true, pool: pool))
            } catch {
                results[index] = .failure(error)
            }
        }
        return results.map { $0! }
    }

    /// Errors after which the server has rolled the transaction back and nothing of the batch was
    /// written, so each command may safely run again on its own: any error a statement or the commit
    /// answered with a SQLSTATE (a unique violation from another writer, a deadlock, a value refused).
    /// A lost connection is not one: whether the commit happened is unknown, so its commands fail.
    static func isRolledBackWhole(_ error: PostgresError) -> Bool {
        error.kind == .query && error.sqlState != nil
    }

    /// The batch inside its council transaction. A nil result is a command to re-run through the repository.
    static func write(_ commands: [CaseCommand], repository: CaseRepository, states: CaseStateCache, on connection: PostgresConnection) throws
        -> [Result<CaseRepository.Outcome, any Error>?]
    {
        do {
            return try writeInTransaction(commands, repository: repository, states: states, on: connection)
        } catch {
            if connection.isHealthy { try? connection.execute("ROLLBACK") }
            throw error
        }
    }

    /// The batch's two round trips. The first opens the transaction for the council and reads; the second
    /// writes everything and commits. No lock is taken to read: the events' unique (case_id, version) is
    /// the check. An event another writer appended meanwhile holds a version this batch is about to use,
    /// so the append fails, the rest of the pipeline (COMMIT included) is skipped, and the caller rolls
    /// back and re-runs each command alone on fresh state.
    private static func writeInTransaction(
        _ commands: [CaseCommand], repository: CaseRepository, states: CaseStateCache, on connection: PostgresConnection
    ) throws -> [Result<CaseRepository.Outcome, any Error>?] {
        let council = commands[0].council
        let keys = commands.compactMap(\.idempotency?.key)
        let held = states.held(commands.map(\.caseId), council: council)
        let hits = held.count(where: { $0 != nil })
        states.found.hit.increment(by: hits)
        states.found.miss.increment(by: held.count - hits)
        let after = zip(commands, held).map { ($0.caseId, $1?.state.version ?? 0) }
        var reads: [PostgresConnection.Statement] = [
            .init("BEGIN"),
            .init(EventStore.genericPlans),
            .init("SELECT set_config('ehcp.council_id', $1, true)", [council]),
            EventStore.eventsStatement(after: after),
            // Each stream's head and its last event's position, and the position of the event at the held
            // version: the identity a held state must still match.
            .init(
                """
                SELECT s.case_id, s.version, t.global_position, h.global_position
                FROM unnest($1::uuid[], $2::int[]) AS k(case_id, held)
                JOIN case_streams s ON s.case_id = k.case_id
                JOIN events t ON t.case_id = s.case_id AND t.version = s.version
                LEFT JOIN events h ON h.case_id = k.case_id AND h.version = k.held
                """, [PostgresArray(after.map(\.0.postgresText)), PostgresArray(after.map { String($0.1) })]),
        ]
        if !keys.isEmpty { reads.append(EventStore.keysRead(council: council, keys: keys)) }
        let answers = try connection.pipeline(reads)
        let newer = try repository.store.histories(answers[3])
        var heads: [UUID: (version: Int, position: Int64, heldPosition: Int64?)] = [:]
        for row in answers[4].rows {
            heads[try row.decode(UUID.self, at: 0)] = (try row.decode(at: 1), try row.decode(at: 2), try row.decodeIfPresent(at: 3))
        }
        let used = keys.isEmpty ? [:] : try EventStore.earlier(answers[5])

        var results: [Result<CaseRepository.Outcome, any Error>?] = Array(repeating: nil, count: commands.count)
        var appends = EventRows()
        var projections = ProjectionChanges()
        var decided: [(index: Int, state: CaseState, events: [RecordedEvent])] = []
        var folded: [(UUID, CaseState, Int64)] = []
        var notify = false
        for (index, command) in commands.enumerated() {
            // A used key: its request is replayed below (once the state is known), any other is refused.
            let replay: Result<AppendResult, StoreError>? = command.idempotency.flatMap { once in
                used[once.key].map { key in Result { () throws(StoreError) in try key.replay(requestHash: once.requestHash) } }
            }
            if case .failure(let refused)? = replay {
                results[index] = .failure(refused)
                continue
            }
            let events = newer[command.caseId] ?? []
            guard var state = held[index]?.state ?? (events.isEmpty ? nil : CaseState()) else {
                results[index] = .failure(CaseCommandError.caseNotFound(command.caseId))
                continue
            }
            for event in events { state.evolve(event) }
            guard let head = heads[command.caseId], state.version == head.version,
                held[index].map({ $0.lastPosition == head.heldPosition }) ?? true
            else {
                // A head that moved between the two reads, or a held state the database no longer has
                // (restored from a backup, or a standby promoted before it had every commit, perhaps with
                // other events at the same versions since): forget it, and let the repository decide on
                // the stored stream alone.
                states.forget([command.caseId])
                if held[index] != nil { states.found.stale.increment() }
                continue
            }
            do {
                guard state.version == state.history.count else {
                    throw PostgresError(
                        .query, message: "case \(command.caseId) has \(state.history.count) events but its last is version \(state.version)")
                }
                folded.append((command.caseId, state, head.position))
                if case .success(let earlier)? = replay {
                    results[index] = .success(CaseRepository.Outcome(caseId: earlier.caseId, append: earlier, state: state))
                    continue
                }
                let (events, next) = try repository.decide(state: state, command: command.command, expectedVersion: command.expectedVersion)
                appends.add(caseId: command.caseId, from: state.version, events: events.map(\.newEvent))
                let firstAlert = projections.add(
                    council: council, caseId: command.caseId, reference: nil, childId: nil, previous: state, state: next,
                    engine: repository.decider.engine)
                notify = notify || CaseRepository.wakesScheduler(firstAlert: firstAlert, events: events, today: command.command.today)
                decided.append((index, next, events))
            } catch {
                results[index] = .failure(error)
            }
        }
        guard !decided.isEmpty else {
            try connection.execute("COMMIT")
            states.hold(folded, council: council)
            return results
        }

        let keyRows = decided.compactMap { index, next, events in
            commands[index].idempotency.map {
                ($0.key, $0.requestHash, commands[index].caseId, next.version - events.count + 1, next.version)
            }
        }
        var writes = [appends.statement(council: council)]
        if !keyRows.isEmpty { writes.append(EventStore.keysStatement(council: council, keys: keyRows)) }
        writes += repository.projector.statements(projections)
        if notify { writes.append(CaseRepository.wakeScheduler(council: council)) }
        writes.append(.init("COMMIT"))
        let positions = try EventRows.positions(try connection.pipeline(writes)[0])

        var written: [(UUID, CaseState, Int64)] = []
        for (index, next, events) in decided {
            let caseId = commands[index].caseId
            let first = next.version - events.count + 1
            guard let firstPosition = positions[EventRows.Slot(caseId: caseId, version: first)],
                let lastPosition = positions[EventRows.Slot(caseId: caseId, version: next.version)]
            else { throw PostgresError(.query, message: "the batch append did not return the positions of case \(caseId)") }
            let append = AppendResult(
                caseId: caseId, firstVersion: first, lastVersion: next.version, firstPosition: firstPosition, lastPosition: lastPosition,
                replayed: false)
            results[index] = .success(CaseRepository.Outcome(caseId: caseId, append: append, state: next))
            written.append((caseId, next, lastPosition))
        }
        // Committed: the states after this batch's events replace those it read.
        states.hold(folded + written, council: council)
        return results
    }
}
