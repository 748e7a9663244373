/// Why a command was refused. Names the rule, the field and the value wherever they are known, so the
/// caseworker can fix the input; nothing is written when one is thrown.
public struct CaseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, Codable {
        /// A field is missing, malformed or out of range.
        case invalidField
        /// The event type is not in the vocabulary.
        case unknownEventType
        /// The event is dated after today.
        case futureDate
        /// The event is dated before the case was opened.
        case beforeCaseOpened
        /// The case has not been opened (or is already open, for an opening event).
        case caseNotOpen
        case caseAlreadyOpen
        /// An id (`adviceId`, `exceptionId`, `targetVersion` …) refers to nothing on this case.
        case unknownReference
        /// An id or decision that may be recorded once was recorded already.
        case duplicate
        /// The event cannot happen in the case's current state (a final plan after a refusal to assess).
        case impossibleInState
        /// An exception whose evidence does not fit its ground (statutory-timescales.md §3).
        case exceptionDoesNotFit
        /// The actor may not log this event, or change its target (a reassignment needs a manager; the
        /// scheduler's records are changed by nobody).
        case forbidden
    }

    public var code: Code
    public var rule: RuleID?
    public var field: String?
    public var value: String?
    public var message: String

    public init(_ code: Code, rule: RuleID? = nil, field: String? = nil, value: String? = nil, _ message: String) {
        self.code = code
        self.rule = rule
        self.field = field
        self.value = value
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let rule { parts.append(rule.rawValue) }
        if let field { parts.append("field '\(field)'" + (value.map { " = '\($0)'" } ?? "")) }
        return (parts.isEmpty ? "" : parts.joined(separator: ", ") + ": ") + message
    }
}
