import EHCPDomain
import Foundation

/// Why recording an event on a case failed.
public enum CaseCommandError: Error, Sendable, CustomStringConvertible {
    /// The domain rejected the event (nothing was written).
    case rejected(CaseError)
    /// The client's `If-Match` version is stale.
    case versionMismatch(expected: Int, actual: Int)
    case caseNotFound(UUID)

    public var description: String {
        switch self {
        case .rejected(let error): error.description
        case .versionMismatch(let expected, let actual): "the case is at version \(actual), not \(expected)"
        case .caseNotFound(let id): "no case \(id)"
        }
    }
}
