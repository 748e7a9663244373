/// A council's own targets and options (statutory-timescales.md: rules marked "(local)").
///
/// Passed into the engine as a value, never hard-coded. The defaults are documented in docs/rules.md.
public struct LocalSettings: Sendable, Hashable, Codable {
    /// R-DRAFT-LOCAL: weeks from the request to the draft plan. Default 14 (councils use 14–16).
    public var draftPlanWeeks: Int
    /// R-OUTCOMES-LOCAL: weeks from the decision to assess to the outcomes meeting. Default 6.
    public var outcomesMeetingWeeks: Int
    /// CoP 9.178: review months for children under 5 (e.g. 6). nil keeps 12 months for everyone.
    public var underFiveReviewMonths: Int?
    /// Days before each rule's due date at which the scheduler sends a reminder.
    public var reminderDays: [RuleID: [Int]]
    /// R-DECISION-NOTICE-5WD: the first day of decisions whose notice the service checks. A council that
    /// upgrades sets the day it began recording `DecisionNoticeSent`, so that years of earlier decisions,
    /// whose notices were kept elsewhere, are not all reported overdue. nil checks every decision.
    public var decisionNoticesFrom: CivilDate?

    public init(
        draftPlanWeeks: Int = 14, outcomesMeetingWeeks: Int = 6, underFiveReviewMonths: Int? = nil,
        reminderDays: [RuleID: [Int]] = LocalSettings.defaultReminderDays, decisionNoticesFrom: CivilDate? = nil
    ) {
        self.draftPlanWeeks = draftPlanWeeks
        self.outcomesMeetingWeeks = outcomesMeetingWeeks
        self.underFiveReviewMonths = underFiveReviewMonths
        self.reminderDays = reminderDays
        self.decisionNoticesFrom = decisionNoticesFrom
    }

    /// 20-week plan: 4 weeks and 1 week before; 6-week clocks: 1 week; annual review: 8 and 2 weeks.
    public static let defaultReminderDays: [RuleID: [Int]] = [
        .final20W: [28, 7],
        .decide6W: [7],
        .advice6W: [7],
        .transferNotice6W: [7],
        .review12M: [56, 14],
        .transferReview: [56, 14],
    ]
}
