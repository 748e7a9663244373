/// The running set of clocks while the engine walks a case's effective history.
///
/// A clock is opened by one event, met by a later one, or cancelled. How a cancellation reads depends
/// on why: an outcome that means the duty never arose (the council decided not to issue a plan) cancels
/// even an overdue clock; a withdrawal, cessation or transfer only cancels a clock not yet due, so a
/// breach that already happened stays a breach (docs/rules.md, "Cancellation").
struct ClockBook {
    struct Clock {
        var rule: RuleID
        var key: String?
        var startVersion: Int
        var startedOn: CivilDate
        var dueOn: CivilDate
        var metOn: CivilDate?
        var cancelledOn: CivilDate?
        var dutyNeverArose = false
        /// R-APPEAL-WINDOW: the unrolled dates whose later one sets the due date.
        var appealBase: CivilDate?

        var isPending: Bool { metOn == nil && cancelledOn == nil }
    }

    private(set) var clocks: [Clock] = []

    mutating func open(_ rule: RuleID, key: String? = nil, on date: CivilDate, version: Int, due: CivilDate) {
        clocks.append(Clock(rule: rule, key: key, startVersion: version, startedOn: date, dueOn: due))
    }

    /// Meets the most recently opened pending clock of `rule` (with `key`, when given).
    @discardableResult
    mutating func meet(_ rule: RuleID, key: String? = nil, on date: CivilDate) -> Bool {
        guard let index = latestPending(rule, key: key) else { return false }
        clocks[index].metOn = date
        return true
    }

    /// Meets every pending clock of `rule`.
    mutating func meetAll(_ rule: RuleID, on date: CivilDate) {
        for index in clocks.indices where clocks[index].rule == rule && clocks[index].isPending {
            clocks[index].metOn = date
        }
    }

    /// Cancels every pending clock of these rules. `dutyNeverArose` makes it hold even when overdue.
    mutating func cancel(_ rules: Set<RuleID>, on date: CivilDate, dutyNeverArose: Bool) {
        for index in clocks.indices where rules.contains(clocks[index].rule) && clocks[index].isPending {
            clocks[index].cancelledOn = date
            clocks[index].dutyNeverArose = dutyNeverArose
        }
    }

    /// Cancels every pending clock except the family's appeal window (which is theirs, not the council's).
    mutating func cancelAllOpen(on date: CivilDate) {
        cancel(Set(RuleID.allCases).subtracting([.appealWindow, .orderCease]), on: date, dutyNeverArose: false)
    }

    /// Undoes the cancellation of the latest cancelled clock of `rule` (reg 45, R (W) v Hertfordshire).
    mutating func revive(_ rule: RuleID) {
        guard let index = clocks.lastIndex(where: { $0.rule == rule && $0.metOn == nil && $0.cancelledOn != nil }) else {
            return
        }
        clocks[index].cancelledOn = nil
        clocks[index].dutyNeverArose = false
    }

    func latestPending(_ rule: RuleID, key: String? = nil) -> Int? {
        clocks.lastIndex { $0.rule == rule && $0.isPending && (key == nil || $0.key == key) }
    }

    func hasPending(_ rule: RuleID) -> Bool { latestPending(rule) != nil }

    func latest(_ rule: RuleID) -> Clock? { clocks.last { $0.rule == rule } }

    mutating func update(_ index: Int, _ change: (inout Clock) -> Void) { change(&clocks[index]) }
}
