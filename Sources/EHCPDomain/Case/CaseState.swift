/// A case folded from its stream: the raw history, the effective history and the facts `decide` uses.
public struct CaseState: Sendable {
    /// Every event as recorded, in version order.
    public private(set) var history: [RecordedEvent] = []
    /// The history after corrections and retractions, kept only once the case has any.
    private var corrected: [RecordedEvent]?
    public private(set) var facts = CaseFacts()

    /// The history after corrections and retractions (`EffectiveHistory.resolve`).
    public var effective: [RecordedEvent] { corrected ?? history }

    public var version: Int { history.last?.version ?? 0 }

    public init() {}

    public init(history: [RecordedEvent]) {
        self.history.reserveCapacity(history.count)
        for recorded in history { evolve(recorded) }
    }

    /// Folds one more event. Total: it never fails (validation is `decide`'s job).
    public mutating func evolve(_ recorded: RecordedEvent) {
        history.append(recorded)
        switch recorded.event {
        case .eventCorrected, .eventRetracted:
            let resolved = EffectiveHistory.resolve(history)
            corrected = resolved
            facts = CaseFacts()
            for event in resolved { facts.apply(event) }
            facts.version = recorded.version
        default:
            corrected?.append(recorded)
            facts.apply(recorded)
        }
    }

    /// Every deadline and flag as of `today`.
    public func deadlines(_ engine: DeadlineEngine, asOf today: CivilDate, childBornOn: CivilDate? = nil) -> DeadlineReport {
        engine.report(for: effective, asOf: today, childBornOn: childBornOn)
    }
}

/// A caseworker's (or the scheduler's) statement that something happened on a given day.
public struct LogEvent: Sendable, Hashable {
    public var event: CaseEvent
    public var occurredOn: CivilDate
    public var actor: String
    /// Today in Europe/London, supplied by the caller: the domain never reads the clock.
    public var today: CivilDate
    /// What the actor may do: checked against the event, and a correction's or retraction's target.
    public var authority: Authority

    /// - Parameter authority: the API passes what the signed-in user's role allows. By default the
    ///   scheduler's records are logged with the scheduler's authority and everything else with a
    ///   manager's (demo loads, scenarios, the command line).
    public init(_ event: CaseEvent, on occurredOn: CivilDate, by actor: String, today: CivilDate, authority: Authority? = nil) {
        self.event = event
        self.occurredOn = occurredOn
        self.actor = actor
        self.today = today
        self.authority = authority ?? (event.requiredAuthority == .scheduler ? .scheduler : .assignCases)
    }
}

extension CaseState {
    /// Every deadline with a status that does not depend on the day it is read: unmet duties and
    /// unexpired windows stay `open` (a stored projection cannot age). Readers derive overdue
    /// (`breached`), excepted, expired and run-out windows from `dueOn` and their own today
    /// (`DeadlineStatus.asOf`). A missed clock is stored as `missed`: the case moved past it on a known day.
    public func timelessDeadlines(_ engine: DeadlineEngine, childBornOn: CivilDate? = nil) -> DeadlineReport {
        engine.report(for: effective, asOf: CivilDate(dayNumber: Int.min / 4), childBornOn: childBornOn)
    }

    /// The next day the scheduler has work on `deadline`: an unsent reminder, or the day after the due date
    /// when the breach is not yet recorded. nil when nothing remains (met, cancelled, breach recorded).
    /// Excused deadlines get reminders but no breach (the duty is "as soon as practicable", §3).
    public func nextAlertDay(for deadline: Deadline, reminderDays: [Int]) -> CivilDate? {
        guard deadline.rule.kind == .duty, deadline.status == .open else { return nil }
        let breach = DeadlineBreached(rule: deadline.rule, dueOn: deadline.dueOn, key: deadline.key)
        if facts.breaches.contains(breach) { return nil }
        let reminders = reminderDays.map { deadline.dueOn.adding(days: -$0) }.filter { day in
            !facts.reminders.contains(
                DeadlineReminderSent(
                    rule: deadline.rule, dueOn: deadline.dueOn, daysBefore: deadline.dueOn.days(until: day) * -1, key: deadline.key))
        }
        if let first = reminders.min() { return first }
        return deadline.exceptionIds.isEmpty ? deadline.dueOn.adding(days: 1) : nil
    }
}

extension DeadlineStatus {
    /// The status as of `today` of a deadline stored with a timeless status (`timelessDeadlines`).
    public static func asOf(_ today: CivilDate, stored: DeadlineStatus, kind: RuleID.Kind, dueOn: CivilDate, excepted: Bool) -> DeadlineStatus {
        guard stored == .open, today > dueOn || (kind == .window && today == dueOn) else { return stored }
        switch kind {
        case .window: return .met
        case .informational: return .expired
        case .duty: return excepted ? .excepted : .breached
        }
    }
}
