import EHCPDomain
import Foundation
import Postgres

/// What the case routes, and the web pages after them, ask of the store: open a case, record an event,
/// read a case, its timeline, a page of cases or a work tray. Each call is one transaction acting for
/// the caller's council, and every read of a child's details writes its access-log entry in that same
/// transaction. Callers never hold a connection.
public struct CaseWork: Sendable {
    public let pool: PostgresPool
    public let repository: CaseRepository
    /// Records events on existing cases in batches (group commit).
    public let writer: CaseBatchWriter
    /// A hot standby that search reads from when it is current enough; nil reads the primary.
    let replica: ReplicaReads?

    public init(pool: PostgresPool, repository: CaseRepository, writer: CaseBatchWriter, replica: ReplicaReads? = nil) {
        self.pool = pool
        self.repository = repository
        self.writer = writer
        self.replica = replica
    }

    /// Who is asking: the council they act for, and who the access log names.
    public struct Caller: Sendable {
        public var council: UUID
        public var userId: UUID
        public var name: String
        public var request: AccessLog.Request

        public init(council: UUID, userId: UUID, name: String, request: AccessLog.Request) {
            self.council = council
            self.userId = userId
            self.name = name
            self.request = request
        }
    }

    /// A case as its page shows it.
    public struct Case: Sendable {
        public var reference: String
        public var state: CaseState
        /// The child's details; nil when the case has no child record. An erased child's are empty.
        public var child: ChildRecords.Details?
    }

    /// A new case, or the replay of the request that opened it.
    public struct Opened: Sendable {
        public var caseId: UUID
        public var reference: String
        public var append: AppendResult
    }

    /// Opens a case with its child's record. A concurrent request with the same idempotency key that
    /// commits first makes this one run again, and the second pass replays it.
    public func open(
        caseId: UUID, command: LogEvent, child: ChildRecord, reference: String?, idempotency: Idempotency?, for caller: Caller
    ) async throws -> Opened {
        let opening = CaseCommand(
            council: caller.council, caseId: caseId, command: command, idempotency: idempotency,
            opening: .init(reference: reference, childId: child.id))
        return try await Self.againIfKeyRaced {
            try await pool.transaction(council: caller.council) { connection in
                let outcome = try repository.record(
                    opening, beforeAppend: { try ChildRecords().insert(child, council: caller.council, on: $0) }, on: connection)
                if outcome.append.replayed {
                    let stored = try CaseQueries().header(caseId: outcome.caseId, on: connection)?.reference
                    return Opened(
                        caseId: outcome.caseId, reference: stored ?? CaseProjector.defaultReference(for: outcome.caseId), append: outcome.append)
                }
                try AccessLog().record(
                    .openCase, user: caller.userId, actor: caller.name, caseId: caseId, childId: child.id, request: caller.request,
                    on: connection)
                return Opened(caseId: caseId, reference: reference ?? CaseProjector.defaultReference(for: caseId), append: outcome.append)
            }
        }
    }

    /// Records a command on an existing case with the next batch; returns when that batch has committed.
    public func record(_ command: CaseCommand) async throws -> CaseRepository.Outcome {
        try await writer.record(command)
    }

    /// Whether `command` would be accepted now, without recording anything: the decision `record` makes,
    /// on the case as it stands, so that a form can show a refusal before its "check your answers" page.
    /// - Throws: `CaseCommandError.rejected` with the rule's refusal, `.caseNotFound` outside the council.
    public func check(_ command: CaseCommand) async throws {
        try await pool.transaction(council: command.council) { connection in
            guard let state = try repository.load(caseId: command.caseId, on: connection) else {
                throw CaseCommandError.caseNotFound(command.caseId)
            }
            if let expected = command.expectedVersion, expected != state.version {
                throw CaseCommandError.versionMismatch(expected: expected, actual: state.version)
            }
            do throws(CaseError) { _ = try repository.decider.decide(state, command.command) } catch { throw CaseCommandError.rejected(error) }
        }
    }

    /// The case with its folded state and child, or nil when it is not in the caller's council.
    public func show(_ caseId: UUID, for caller: Caller) async throws -> Case? {
        try await pool.transaction(council: caller.council) { connection in
            guard let header = try CaseQueries().header(caseId: caseId, on: connection),
                let state = try repository.load(caseId: caseId, on: connection)
            else { return nil }
            let child = try header.childId.flatMap { try ChildRecords().details(childId: $0, on: connection) }
            try AccessLog().record(
                .readCase, user: caller.userId, actor: caller.name, caseId: caseId, childId: header.childId, request: caller.request,
                on: connection)
            return Case(reference: header.reference, state: state, child: child)
        }
    }

    /// Every event of the case in version order; empty when it is not in the caller's council.
    public func timeline(_ caseId: UUID, for caller: Caller) async throws -> [StoredEvent] {
        try await referencedTimeline(caseId, for: caller)?.events ?? []
    }

    /// The case's reference and every event (the timeline, and the evidence pack, which holds no child's
    /// details): logged as a read of the timeline. nil when the case is not in the caller's council.
    public func referencedTimeline(_ caseId: UUID, for caller: Caller) async throws -> (reference: String, events: [StoredEvent])? {
        try await pool.transaction(council: caller.council) { connection in
            guard let header = try CaseQueries().header(caseId: caseId, on: connection) else { return nil }
            let stored = try repository.store.readStream(caseId: caseId, on: connection)
            for event in stored { _ = try event.recorded() }  // logged only once it can be delivered
            try AccessLog().record(
                .readTimeline, user: caller.userId, actor: caller.name, caseId: caseId, childId: header.childId, request: caller.request,
                on: connection)
            return (header.reference, stored)
        }
    }

    /// A page of cases, read from the standby when there is one; a page of names is a read of each
    /// child's details (UK GDPR art. 30), so each is logged, on the primary, before the page is returned.
    public func list(_ filter: CaseQueries.Filter, today: CivilDate, for caller: Caller) async throws -> [CaseQueries.ListItem] {
        try await ReplicaReads.logged(
            replica, council: caller.council, primary: pool,
            read: { try CaseQueries().list(filter, today: today, on: $0) },
            log: { items, connection in
                try AccessLog().record(
                    .listCases, user: caller.userId, actor: caller.name, casesOf: items.map(\.caseId), request: caller.request, on: connection)
            })
    }

    /// What is due within `days`, and what is overdue, for a caseworker or a team.
    public func workTray(
        caseworker: String?, team: String?, days: Int, today: CivilDate, limit: Int = 500, council: UUID
    ) async throws -> [CaseQueries.TrayItem] {
        try await pool.transaction(council: council) {
            try CaseQueries().workTray(
                caseworker: caseworker, team: team, days: days, today: today, limit: limit, on: $0)
        }
    }

    /// Runs `body` a second time when a concurrent request with the same idempotency key committed
    /// first: the key's unique index rolled this one back, and the second pass finds and replays it.
    public static func againIfKeyRaced<T>(_ body: () async throws -> T) async throws -> T {
        do { return try await body() } catch  where StoreError.isKeyRace(error) { return try await body() }
    }
}
