import Foundation
import Postgres

/// What the subject-access, erasure and access-log routes ask of the store (UK GDPR arts. 15, 17 and
/// 30). Each call is one transaction acting for the caller's council, with its access-log entry written
/// in it; callers never hold a connection.
public struct ChildWork: Sendable {
    let pool: PostgresPool
    /// A hot standby the access log is read from when it is current enough; nil reads the primary.
    let replica: ReplicaReads?

    public init(pool: PostgresPool, replica: ReplicaReads? = nil) {
        self.pool = pool
        self.replica = replica
    }

    /// Everything held about one child: their details and the stored events of each of their cases.
    public struct Record: Sendable {
        public var child: ChildRecords.Details
        public var cases: [(caseId: UUID, events: [StoredEvent])]
    }

    /// The child's record, or nil when the child is not in the caller's council.
    public func export(childId: UUID, for caller: CaseWork.Caller) async throws -> Record? {
        try await pool.transaction(council: caller.council) { connection in
            guard let child = try ChildRecords().details(childId: childId, on: connection) else { return nil }
            let cases = try ChildRecords().caseIds(childId: childId, on: connection).map { caseId in
                (caseId, try EventStore().readStream(caseId: caseId, on: connection))
            }
            // Logged only once the record can be delivered: every event decodes.
            for (_, events) in cases { for event in events { _ = try event.recorded() } }
            try AccessLog().record(
                .exportChild, user: caller.userId, actor: caller.name, caseId: nil, childId: childId, request: caller.request, on: connection)
            return Record(child: child, cases: cases)
        }
    }

    /// Erases the child's personal details, logging the erasure with its reason; `reply` is told whether
    /// the child was found (a reply that throws changes nothing).
    public func erase(
        childId: UUID, reason: String, for caller: CaseWork.Caller, once: Idempotency?, reply: @escaping @Sendable (Bool) throws -> KeptResponse
    ) async throws -> KeptResponse {
        try await StoredResponses.once(once, council: caller.council, pool: pool) { connection in
            let erased = try ChildRecords().erase(childId: childId, on: connection)
            if erased {
                try AccessLog().record(
                    .eraseChild, user: caller.userId, actor: caller.name, caseId: nil, childId: childId, request: caller.request,
                    reason: reason, on: connection)
            }
            return try reply(erased)
        }
    }

    /// Who read which child's record, newest first; from the standby when there is one current enough.
    public func accessLog(childId: UUID?, limit: Int, council: UUID) async throws -> [AccessLog.Entry] {
        try await ReplicaReads.read(replica, council: council, primary: pool) { try AccessLog().entries(childId: childId, limit: limit, on: $0) }
    }
}
