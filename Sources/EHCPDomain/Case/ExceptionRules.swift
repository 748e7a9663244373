/// Checks an exception against its ground before it is recorded (statutory-timescales.md §3).
///
/// An exception excuses; it never extends. It is rejected when the rule has no such ground, when the
/// evidence is missing, or when the evidence does not fit (absence or closure under 4 weeks, an advice
/// request outside the closure window, an absence outside the deadline's period).
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
                let overlaps = clocks.contains { from <= $0.dueOn && to >= $0.startedOn }
                if !overlaps {
                    let clock = clocks[0]
                    throw CaseError(
                        .exceptionDoesNotFit, rule: rule, field: "data.from", value: from.description,
                        "the absence \(from) to \(to) is not during the \(rule.rawValue) period (\(clock.startedOn) to \(clock.dueOn))")
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
