import Foundation

/// The shape a council's case references must have. A reference appears in alerts, emails, CSVs and
/// the access log, which must carry no child's personal details (UK GDPR Art. 5(1)(c), data
/// minimisation), so it must be impossible to type a child's name into one: the default allows only
/// letters, digits, `-` and `/`, no spaces, at most 40 characters. A council may set its own pattern
/// in the settings file (`caseReferencePattern`), e.g. `^EHC-[0-9]{4,8}$`.
public struct CaseReferencePattern: @unchecked Sendable, CustomStringConvertible {
    public static let defaultPattern = "^[A-Za-z0-9/-]{1,40}$"
    /// The longest reference stored, whatever the pattern allows.
    public static let maxLength = 40

    public let pattern: String
    // Immutable after init; matching from several threads is safe (Foundation's documented guarantee).
    private let regex: NSRegularExpression

    public init() { self = Self(Self.defaultPattern)! }

    /// nil when `pattern` is not a regular expression.
    public init?(_ pattern: String) {
        guard let regex = try? NSRegularExpression(pattern: pattern) else { return nil }
        self.pattern = pattern
        self.regex = regex
    }

    /// Whether `reference` matches the whole pattern and is at most `maxLength` characters.
    public func accepts(_ reference: String) -> Bool {
        guard !reference.isEmpty, reference.count <= Self.maxLength else { return false }
        let range = NSRange(reference.startIndex..., in: reference)
        guard let match = regex.firstMatch(in: reference, range: range) else { return false }
        return match.range == range
    }

    public var description: String { pattern }
}
