/// The running set of clocks while the engine walks a case's effective history.
///
/// A clock is opened by one event, then met, cancelled, or moved past. An outcome that means the duty
/// never arose (the council decided not to issue a plan) cancels even an overdue clock. When the case
/// moves on without the duty (a withdrawal, cessation or transfer out, a final plan issued without it),
/// a clock not yet due is cancelled and an overdue one is *missed*: it still counts against the
/// measures, but nobody can act on it any more (docs/rules.md, "Statuses").
struct ClockBook {
    struct Clock {
        var rule: RuleID
        var key: String?
        var startVersion: Int
        var startedOn: CivilDate
        var dueOn: CivilDate
        var metOn: CivilDate?
        var cancelledOn: CivilDate?
        /// The day the case moved on while this clock was overdue and unmet.
        var movedPastOn: CivilDate?
        /// R-APPEAL-WINDOW: the unrolled dates whose later one sets the due date.
        var appealBase: CivilDate?

        var isPending: Bool { metOn == nil && cancelledOn == nil && movedPastOn == nil }
    }

    private(set) var clocks: [Clock] = []
    /// Pending clocks per rule (by `RuleID.ordinal`), so meeting or cancelling a rule the case has no
    /// pending clock of costs nothing.
    private var pending = [Int](repeating: 0, count: RuleID.allCases.count)

    init() { clocks.reserveCapacity(64) }

    mutating func open(_ rule: RuleID, key: String? = nil, on date: CivilDate, version: Int, due: CivilDate) {
        clocks.append(Clock(rule: rule, key: key, startVersion: version, startedOn: date, dueOn: due))
        pending[rule.ordinal] += 1
    }

    /// Meets the most recently opened pending clock of `rule` (with `key`, when given).
    @discardableResult
    mutating func meet(_ rule: RuleID, key: String? = nil, on date: CivilDate) -> Bool {
        guard let index = latestPending(rule, key: key) else { return false }
        clocks[index].metOn = date
        pending[rule.ordinal] -= 1
        return true
    }

    /// Meets every pending clock of `rule`.
    mutating func meetAll(_ rule: RuleID, on date: CivilDate) {
        guard pending[rule.ordinal] > 0 else { return }
        for index in clocks.indices where clocks[index].rule == rule && clocks[index].isPending {
            clocks[index].metOn = date
        }
        pending[rule.ordinal] = 0
    }

    /// Cancels every pending clock of these rules, overdue or not: the duty never arose.
    mutating func cancel(_ rules: [RuleID], on date: CivilDate) {
        guard rules.contains(where: { pending[$0.ordinal] > 0 }) else { return }
        for index in clocks.indices where clocks[index].isPending && rules.contains(clocks[index].rule) {
            clocks[index].cancelledOn = date
            pending[clocks[index].rule.ordinal] -= 1
        }
    }

    /// The case moved on without these duties: each pending clock not yet due is cancelled, and each
    /// overdue one is missed.
    mutating func movePast(_ rules: [RuleID], on date: CivilDate) {
        guard rules.contains(where: { pending[$0.ordinal] > 0 }) else { return }
        for index in clocks.indices where clocks[index].isPending && rules.contains(clocks[index].rule) {
            movePast(index, on: date)
        }
    }

    /// Clocks a closing case keeps: the family's appeal window (theirs, not the council's), a cessation the
    /// tribunal ordered, and the notice of an appealable decision, which the family is owed however the
    /// case ends (a plan ceased the day the decision to cease it was made is still appealable).
    static let survivesClosing: Set<RuleID> = [.appealWindow, .orderCease, .decisionNotice5WD]

    /// The case closed (withdrawn, ceased, transferred out): every other pending clock is moved past.
    mutating func close(on date: CivilDate) {
        for index in clocks.indices where clocks[index].isPending && !Self.survivesClosing.contains(clocks[index].rule) {
            movePast(index, on: date)
        }
    }

    private mutating func movePast(_ index: Int, on date: CivilDate) {
        if date > clocks[index].dueOn {
            clocks[index].movedPastOn = date
        } else {
            clocks[index].cancelledOn = date
        }
        pending[clocks[index].rule.ordinal] -= 1
    }

    /// Undoes the cancellation of the latest cancelled or missed clock of `rule` (reg 45, R (W) v Hertfordshire).
    mutating func revive(_ rule: RuleID) {
        guard
            let index = clocks.lastIndex(where: {
                $0.rule == rule && $0.metOn == nil && ($0.cancelledOn != nil || $0.movedPastOn != nil)
            })
        else {
            return
        }
        clocks[index].cancelledOn = nil
        clocks[index].movedPastOn = nil
        pending[rule.ordinal] += 1
    }

    func latestPending(_ rule: RuleID, key: String? = nil) -> Int? {
        guard pending[rule.ordinal] > 0 else { return nil }
        return clocks.lastIndex { $0.rule == rule && $0.isPending && (key == nil || $0.key == key) }
    }

    func latestIndex(_ rule: RuleID) -> Int? { clocks.lastIndex { $0.rule == rule } }

    mutating func update(_ index: Int, _ change: (inout Clock) -> Void) { change(&clocks[index]) }
}
