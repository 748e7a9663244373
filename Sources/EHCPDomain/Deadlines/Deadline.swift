/// The state of one deadline as of a given day (statutory-timescales.md §1; the table in docs/rules.md,
/// "Statuses", says which can be acted on and which count against a measure).
public enum DeadlineStatus: String, Sendable, Hashable, Codable, CaseIterable {
    /// Not yet due, or due today.
    case open
    /// Met on or before the due date.
    case met
    /// Met after the due date, with no exception that applies.
    case metLate
    /// Overdue: passed and unmet, with no exception that applies, and the duty can still be done.
    case breached
    /// Passed, or met late, with an exception that applies: the due date stands, the duty becomes
    /// "as soon as practicable".
    case excepted
    /// The duty fell away before it was due (withdrawal, refusal, the other outcome).
    case cancelled
    /// Passed unmet, and then the case moved past it (a withdrawal, a cessation, a transfer out, the
    /// final plan issued without it), so it can no longer be done. It counts against the measures as a
    /// breach does, but nobody is asked to act on it.
    case missed
    /// An informational clock (the family's appeal window) that ran out: never a breach of the council's.
    case expired

    /// Spelled as the scenarios' `expect` may give it: `overdue` is the plain-English name of `breached`.
    public init?(expected text: String) {
        self.init(rawValue: text == "overdue" ? "breached" : text)
    }
}

/// One computed deadline of a case.
public struct Deadline: Sendable, Hashable, Codable {
    public var rule: RuleID
    /// Tells apart several deadlines of one rule (an `adviceId`, a `reviewId`, a transfer year).
    public var key: String?
    /// The version of the event that started the clock.
    public var startVersion: Int
    public var startedOn: CivilDate
    public var dueOn: CivilDate
    public var status: DeadlineStatus
    public var metOn: CivilDate?
    /// IDs of the recorded exceptions that excuse this deadline.
    public var exceptionIds: [String]
    /// The day the case moved past this clock while it was unmet and overdue (a `missed` clock, or an
    /// `excepted` one that can no longer be done either).
    public var movedPastOn: CivilDate?

    public init(
        rule: RuleID, key: String?, startVersion: Int, startedOn: CivilDate, dueOn: CivilDate,
        status: DeadlineStatus, metOn: CivilDate?, exceptionIds: [String], movedPastOn: CivilDate? = nil
    ) {
        self.rule = rule
        self.key = key
        self.startVersion = startVersion
        self.startedOn = startedOn
        self.dueOn = dueOn
        self.status = status
        self.metOn = metOn
        self.exceptionIds = exceptionIds
        self.movedPastOn = movedPastOn
    }

    /// Whether someone can still act on it: a council duty, unmet, that the case has not moved past.
    public var isActionable: Bool {
        rule.kind == .duty && metOn == nil && movedPastOn == nil && [.open, .breached, .excepted].contains(status)
    }

    /// Days past the due date as of `today` (0 when not overdue), or until it when negative.
    public func daysOverdue(asOf today: CivilDate) -> Int { dueOn.days(until: metOn ?? today) }
}

/// An irregular but real event, recorded and flagged with the rule it breaks (§4).
public struct Flag: Sendable, Hashable, Codable {
    public var rule: RuleID
    public var version: Int
    public var message: String

    public init(rule: RuleID, version: Int, message: String) {
        self.rule = rule
        self.version = version
        self.message = message
    }
}

/// Every deadline and flag of one case.
public struct DeadlineReport: Sendable, Hashable {
    public var deadlines: [Deadline]
    public var flags: [Flag]
}
