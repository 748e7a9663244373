import EHCPDomain

/// Records a planned timeline through `decide`, day by day, and adds what the scheduler would have
/// recorded along the way: a reminder at each configured offset and a breach the day after each
/// deadline passes unmet.
struct CaseSimulator {
    let decider: CaseDecider
    let asOf: CivilDate
    private(set) var state = CaseState()
    private(set) var refused: [String] = []

    init(decider: CaseDecider, asOf: CivilDate) {
        self.decider = decider
        self.asOf = asOf
    }

    mutating func run(_ plan: [(CivilDate, CaseEvent)]) {
        var lastSwept: CivilDate?
        let ordered = plan.enumerated().sorted { ($0.element.0, $0.offset) < ($1.element.0, $1.offset) }.map(\.element)
        for (day, event) in ordered where day <= asOf {
            if let from = lastSwept { sweep(from: from, through: day) }
            record(event, on: day, today: day)
            lastSwept = day
        }
        if let from = lastSwept { sweep(from: from, through: asOf) }
    }

    /// The scheduler's work for days after `from` up to `today`, as it would have run on `today`.
    private mutating func sweep(from: CivilDate, through today: CivilDate) {
        guard from < today else { return }
        let report = state.deadlines(decider.engine, asOf: today)
        for deadline in report.deadlines where deadline.rule.kind == .duty {
            for offset in decider.engine.settings.reminderDays[deadline.rule] ?? [] {
                let remindOn = deadline.dueOn.adding(days: -offset)
                if deadline.status == .open, remindOn > from, remindOn <= today {
                    record(
                        .deadlineReminderSent(
                            DeadlineReminderSent(rule: deadline.rule, dueOn: deadline.dueOn, daysBefore: offset, key: deadline.key)), on: remindOn,
                        today: today)
                }
            }
            if deadline.status == .breached,
                !state.facts.breaches.contains(DeadlineBreached(rule: deadline.rule, dueOn: deadline.dueOn, key: deadline.key))
            {
                record(
                    .deadlineBreached(DeadlineBreached(rule: deadline.rule, dueOn: deadline.dueOn, key: deadline.key)),
                    on: deadline.dueOn.adding(days: 1), today: today)
            }
        }
    }

    private mutating func record(_ event: CaseEvent, on day: CivilDate, today: CivilDate) {
        let actor = event.kind == .deadlineBreached || event.kind == .deadlineReminderSent ? "system" : "demo"
        do {
            for recorded in try decider.decide(state, LogEvent(event, on: day, by: actor, today: today)) { state.evolve(recorded) }
        } catch {
            refused.append("\(event.typeName) on \(day): \(error)")
        }
    }
}
