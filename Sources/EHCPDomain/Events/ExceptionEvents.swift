/// The grounds on which a time limit need not be met (reg 10(4)(a)–(d), reg 8(2)).
public enum ExceptionGround: String, Sendable, Hashable, Codable, CaseIterable {
    /// Reg 10(4)(a)/(b): advice was requested from a setting around its closure of 4 weeks or more.
    case closure
    /// Reg 10(4)(c), 8(2): exceptional personal circumstances of the child, parent or young person.
    case personalCircumstances
    /// Reg 10(4)(d), 8(2): absence from the area for a continuous period of at least 4 weeks.
    case absence
    /// Reg 8(2): the child missed an appointment the advice giver made (advice clocks only).
    case missedAppointment
}

/// An exception recorded against one or more rules, with its evidence (statutory-timescales.md §3).
public struct ExceptionRecorded: Sendable, Hashable, Codable {
    public var exceptionId: String
    public var ground: ExceptionGround
    public var rules: [RuleID]
    public var adviceId: String?
    /// First day of the absence or closure (inclusive).
    public var from: CivilDate?
    /// Last day of the absence or closure (inclusive).
    public var to: CivilDate?
    public var setting: String?
    public var reason: String?

    public init(
        exceptionId: String, ground: ExceptionGround, rules: [RuleID], adviceId: String? = nil,
        from: CivilDate? = nil, to: CivilDate? = nil, setting: String? = nil, reason: String? = nil
    ) {
        self.exceptionId = exceptionId
        self.ground = ground
        self.rules = rules
        self.adviceId = adviceId
        self.from = from
        self.to = to
        self.setting = setting
        self.reason = reason
    }
}

/// Refers to an earlier exception by its `exceptionId`.
public struct ExceptionReference: Sendable, Hashable, Codable {
    public var exceptionId: String
    public init(exceptionId: String) { self.exceptionId = exceptionId }
}
