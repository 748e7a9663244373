import EHCPDomain
import Foundation

/// One command on one case: the one shape in which every write of case events arrives, from the API,
/// the CLI, the scheduler and the batch writer alike.
public struct CaseCommand: Sendable {
    public var council: UUID
    public var caseId: UUID
    public var command: LogEvent
    /// The version the client saw (`If-Match`); nil to decide on the current state.
    public var expectedVersion: Int?
    /// The request's `Idempotency-Key` and fingerprint: a replay returns the first result.
    public var idempotency: Idempotency?
    /// For a case being opened: its reference (nil for the default) and its child's record.
    public var opening: Opening?

    public struct Opening: Sendable {
        public var reference: String?
        public var childId: UUID?
        public init(reference: String?, childId: UUID?) {
            self.reference = reference
            self.childId = childId
        }
    }

    public init(
        council: UUID, caseId: UUID, command: LogEvent, expectedVersion: Int? = nil, idempotency: Idempotency? = nil, opening: Opening? = nil
    ) {
        self.council = council
        self.caseId = caseId
        self.command = command
        self.expectedVersion = expectedVersion
        self.idempotency = idempotency
        self.opening = opening
    }
}
