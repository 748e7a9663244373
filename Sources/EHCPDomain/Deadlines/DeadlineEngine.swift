/// Computes every deadline of a case from its effective history: a pure function of the events, today,
/// the working-day calendar and the council's local settings (statutory-timescales.md §1–§3).
public struct DeadlineEngine: Sendable {
    public var calendar: WorkingDayCalendar
    public var settings: LocalSettings

    public init(calendar: WorkingDayCalendar, settings: LocalSettings = LocalSettings()) {
        self.calendar = calendar
        self.settings = settings
    }

    /// Every deadline and flag of the case as of `today`.
    ///
    /// - Parameters:
    ///   - effectiveHistory: the case's events after corrections and retractions (`EffectiveHistory`).
    ///   - childBornOn: for the under-5s review option (CoP 9.178), when the council sets one.
    public func report(for effectiveHistory: [RecordedEvent], asOf today: CivilDate, childBornOn: CivilDate? = nil)
        -> DeadlineReport
    {
        // Events are applied in the order they happened in the world; same-day events in version order.
        // (Indices are sorted rather than the events themselves: copying events is the dominant cost.)
        var order = Array(effectiveHistory.indices)
        order.sort { a, b in
            let (left, right) = (effectiveHistory[a], effectiveHistory[b])
            return left.occurredOn != right.occurredOn ? left.occurredOn < right.occurredOn : left.version < right.version
        }
        var walk = DeadlineWalk(calendar: calendar, settings: settings, childBornOn: childBornOn)
        for index in order { walk.apply(effectiveHistory[index]) }
        let exceptions = walk.exceptions.values.filter { !$0.withdrawn }
        let deadlines = walk.book.clocks.map { clock in
            let excuses = exceptions.isEmpty ? [] : excusing(clock, exceptions)
            return Deadline(
                rule: clock.rule, key: clock.key, startVersion: clock.startVersion, startedOn: clock.startedOn,
                dueOn: clock.dueOn, status: Self.status(of: clock, excused: !excuses.isEmpty, today: today),
                metOn: clock.metOn, exceptionIds: excuses, movedPastOn: clock.movedPastOn)
        }
        return DeadlineReport(deadlines: deadlines, flags: walk.flags.sorted { $0.version < $1.version })
    }

    /// The status rules of §1 and docs/rules.md, "Statuses": met on time, met late, overdue (`breached`),
    /// excepted, cancelled, missed, expired, or still open.
    static func status(of clock: ClockBook.Clock, excused: Bool, today: CivilDate) -> DeadlineStatus {
        switch clock.rule.kind {
        case .window:
            // A minimum period for the family: it simply runs out. Acting inside it is flagged, not breached.
            return today < clock.dueOn ? .open : .met
        case .informational:
            // The family's deadline, not the council's: used, withdrawn, or run out.
            if let metOn = clock.metOn { return metOn <= clock.dueOn ? .met : .metLate }
            if clock.cancelledOn != nil { return .cancelled }
            return today <= clock.dueOn ? .open : .expired
        case .duty:
            if let metOn = clock.metOn {
                return metOn <= clock.dueOn ? .met : (excused ? .excepted : .metLate)
            }
            if clock.cancelledOn != nil { return .cancelled }
            // Overdue when the case moved past it: it does not depend on the day it is read.
            if clock.movedPastOn != nil { return excused ? .excepted : .missed }
            // The due day itself is still open (scenario 03).
            if today <= clock.dueOn { return .open }
            return excused ? .excepted : .breached
        }
    }

    private func excusing(_ clock: ClockBook.Clock, _ exceptions: [DeadlineWalk.ExceptionFacts]) -> [String] {
        exceptions.filter { $0.excuses(rule: clock.rule, key: clock.key) }.map(\.recorded.exceptionId).sorted()
    }
}
