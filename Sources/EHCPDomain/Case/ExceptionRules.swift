/// Checks an exception against its ground before it is recorded (statutory-timescales.md §3).
///
/// An exception excuses; it never extends. It is rejected when the rule has no such ground, when the
/// evidence is missing, or when the evidence does not fit (§3 lists every way):
/// - an absence shorter than 4 continuous weeks, or with fewer than 4 continuous weeks inside the period
///   of the clock it excuses (reg 10(4)(d): "for a continuous period of not less than 4 weeks" during it);
/// - a closure shorter than 4 weeks, or an advice request outside its window (reg 10(4)(a)/(b));
/// - a closure of a setting other than the one the advice was requested from;
/// - a closure ground on advice not requested from a school, college or early-years provider (health and
///   social-care advice have no closure ground).
struct ExceptionRules {
    let engine: DeadlineEngine

    /// Reg 10(4)(d), reg 8(2): "a continuous period of not less than 4 weeks".
    static let minimumDays = 28

    func validate(_ exception: ExceptionRecorded, on day: CivilDate, facts: CaseFacts, effective: [RecordedEvent], today: CivilDate)
        throws(CaseError)
    {
        if facts.exceptions[exception.exceptionId] != nil {
            throw CaseError(
                .duplicate, field: "data.exceptionId", value: exception.exceptionId, "an exception with this id already exists on the case")
        }
        guard !exception.rules.isEmpty else {
            throw CaseError(.invalidField, field: "data.rules", "must name at least one rule the exception excuses")
        }
        for rule in exception.rules {
            let grounds = rule.exceptionGrounds
            if grounds.isEmpty {
                throw CaseError(
                    .exceptionDoesNotFit, rule: rule, field: "data.rules", value: rule.rawValue,
                    "the regulations give no exceptions to this time limit")
            }
            if !grounds.contains(exception.ground) {
                throw CaseError(
                    .exceptionDoesNotFit, rule: rule, field: "data.ground", value: exception.ground.rawValue,
                    "is not a ground for \(rule.rawValue); allowed: \(grounds.map(\.rawValue).sorted().joined(separator: ", "))"
                        + (rule == .advice6W && exception.ground == .closure ? " (reg 8(2) has no closure exception)" : ""))
            }
        }
        let advice = try adviceRequest(exception, facts: facts)
        let deadlines = engine.report(for: effective, asOf: today).deadlines
        for rule in exception.rules {
            let clocks = deadlines.filter { $0.rule == rule && (rule != .advice6W || exception.adviceId == nil || $0.key == exception.adviceId) }
            if clocks.isEmpty {
                throw CaseError(
                    .unknownReference, rule: rule, field: "data.rules", value: rule.rawValue,
                    "the case has no \(rule.rawValue) deadline for this exception to excuse")
            }
            if exception.ground == .absence, let (from, to) = try period(exception) {
                // The days of the absence inside each clock's period, start day to due day inclusive. The
                // exception excuses every clock it names, so the absence must fit each of them.
                let inside = clocks.map { max(0, max(from, $0.startedOn).days(until: min(to, $0.dueOn)) + 1) }
                if let best = inside.min(), best < Self.minimumDays {
                    let clock = clocks[inside.firstIndex(of: best)!]
                    throw CaseError(
                        .exceptionDoesNotFit, rule: rule, field: "data.from", value: from.description,
                        best == 0
                            ? "the absence \(from) to \(to) is not during the \(rule.rawValue) period (\(clock.startedOn) to \(clock.dueOn))"
                            : "only \(best) days of the absence \(from) to \(to) fall during the \(rule.rawValue) period (\(clock.startedOn) to \(clock.dueOn)); reg 10(4)(d) needs at least 4 continuous weeks (28 days) of absence during it"
                    )
                }
            }
        }
        switch exception.ground {
        case .absence:
            _ = try period(exception)
        case .closure:
            guard let (from, to) = try period(exception) else { return }
            guard let advice else {
                throw CaseError(
                    .invalidField, field: "data.adviceId",
                    "a closure exception must name the advice request sent to the closed setting (reg 10(4)(a)/(b))")
            }
            guard advice.type.comesFromASetting else {
                throw CaseError(
                    .exceptionDoesNotFit, rule: exception.rules.first, field: "data.adviceId", value: exception.adviceId,
                    "the advice requested was \(advice.type.title) advice, not advice from a school, college or early-years provider; only a setting's closure can excuse a time limit (reg 10(4)(a)/(b))"
                )
            }
            if let setting = exception.setting, let provider = advice.provider, Self.sameSetting(setting, provider) == false {
                throw CaseError(
                    .exceptionDoesNotFit, rule: exception.rules.first, field: "data.setting", value: setting,
                    "the closure is of \(setting), but the advice was requested from \(provider); only the closure of the setting asked for the advice can excuse a time limit"
                )
            }
            // From one week before the setting closed to one week before the day it re-opened.
            let windowStart = from.adding(days: -7)
            let windowEnd = to.adding(days: 1).adding(days: -7)
            if advice.requestedOn < windowStart || advice.requestedOn > windowEnd {
                throw CaseError(
                    .exceptionDoesNotFit, field: "data.adviceId", value: exception.adviceId,
                    "advice was requested on \(advice.requestedOn), outside the closure window \(windowStart) to \(windowEnd) (one week before the setting closed on \(from) to one week before it re-opened on \(to.adding(days: 1)))"
                )
            }
        case .personalCircumstances, .missedAppointment:
            break
        }
    }

    /// Settings are named by people: compare without case or surrounding spaces.
    static func sameSetting(_ a: String, _ b: String) -> Bool {
        a.trimmingWhitespace().lowercased() == b.trimmingWhitespace().lowercased()
    }

    private func adviceRequest(_ exception: ExceptionRecorded, facts: CaseFacts) throws(CaseError) -> CaseFacts.Advice? {
        guard let adviceId = exception.adviceId else { return nil }
        guard let advice = facts.advice[adviceId] else {
            throw CaseError(.unknownReference, field: "data.adviceId", value: adviceId, "no advice was requested with this id")
        }
        return advice
    }

    /// The evidence dates of an absence or closure: both required, in order, at least 4 weeks long.
    private func period(_ exception: ExceptionRecorded) throws(CaseError) -> (CivilDate, CivilDate)? {
        guard exception.ground == .absence || exception.ground == .closure else { return nil }
        let what = exception.ground == .absence ? "absence" : "closure"
        guard let from = exception.from else {
            throw CaseError(.invalidField, field: "data.from", "an \(what) exception needs the first day of the \(what)")
        }
        guard let to = exception.to else {
            throw CaseError(.invalidField, field: "data.to", "an \(what) exception needs the last day of the \(what)")
        }
        guard from <= to else {
            throw CaseError(.invalidField, field: "data.to", value: to.description, "is before data.from (\(from))")
        }
        let days = from.days(until: to) + 1
        if days < Self.minimumDays {
            let rule = exception.rules.first
            throw CaseError(
                .exceptionDoesNotFit, rule: rule, field: "data.to", value: to.description,
                "the \(what) from \(from) to \(to) lasts \(days) days; the regulations require a continuous period of at least 4 weeks (28 days)")
        }
        return (from, to)
    }
}
