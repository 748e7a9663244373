/// Decides whether a logged event may join a case: `decide(state, command) -> [events]`, pure, throwing a
/// `CaseError` that names the rule, the field and the value (statutory-timescales.md §4).
///
/// Impossible input is rejected; irregular but real input is accepted and flagged by the deadline engine.
public struct CaseDecider: Sendable {
    public let engine: DeadlineEngine

    public init(engine: DeadlineEngine) { self.engine = engine }

    public func decide(_ state: CaseState, _ command: LogEvent) throws(CaseError) -> [RecordedEvent] {
        let recorded = RecordedEvent(
            version: state.version + 1, occurredOn: command.occurredOn, event: command.event, actor: command.actor)
        guard command.event.mayBeLogged(with: command.authority) else {
            throw CaseError(.forbidden, field: "type", value: command.event.typeName, Self.refusal(command.event))
        }
        switch command.event {
        case .eventCorrected(let correction):
            try checkTarget(correction.targetVersion, in: state, field: "data.targetVersion", authority: command.authority)
            if correction.occurredOn == nil && correction.data == nil {
                throw CaseError(.invalidField, field: "data", "a correction needs a new occurredOn, new data, or both")
            }
            if let target = state.history.first(where: { $0.version == correction.targetVersion }) {
                // The new data must be a valid payload of the target's own type.
                let corrected = try EffectiveHistory.apply(correction, to: target)
                try Self.checkYears(corrected)
            }
            try checkDate(recorded, facts: nil, today: command.today)
            try revalidate(state.history + [recorded], today: command.today)
        case .eventRetracted(let retraction):
            try checkTarget(retraction.targetVersion, in: state, field: "data.targetVersion", authority: command.authority, allowCorrection: true)
            try checkDate(recorded, facts: nil, today: command.today)
            try revalidate(state.history + [recorded], today: command.today)
        default:
            try Self.checkYears(recorded)
            try validate(recorded, facts: state.facts, effective: state.effective, today: command.today, replaying: false)
        }
        return [recorded]
    }

    /// Replays a whole history through validation: a correction or retraction may not leave any event
    /// impossible (an advice reply before its request, an event before the case opened).
    private func revalidate(_ history: [RecordedEvent], today: CivilDate) throws(CaseError) {
        var facts = CaseFacts()
        var prefix: [RecordedEvent] = []
        for recorded in EffectiveHistory.resolve(history) {
            do {
                try validate(recorded, facts: facts, effective: prefix, today: today, replaying: true)
            } catch {
                var wrapped = error
                wrapped.message =
                    "after this change, event v\(recorded.version) (\(recorded.event.typeName) on \(recorded.occurredOn)) would be invalid: \(error.message)"
                throw wrapped
            }
            facts.apply(recorded)
            prefix.append(recorded)
        }
    }

    private func checkTarget(_ target: Int, in state: CaseState, field: String, authority: Authority, allowCorrection: Bool = false)
        throws(CaseError)
    {
        guard let recorded = state.history.first(where: { $0.version == target }) else {
            throw CaseError(
                .unknownReference, field: field, value: String(target), "no event with that version on this case (latest is v\(state.version))")
        }
        // A change to an event needs the authority the event needed; the scheduler's own records are
        // facts about the clock, so nobody changes them (a retracted breach would be raised and alerted again).
        if recorded.event.isSchedulerRecord || !recorded.event.mayBeLogged(with: authority) {
            throw CaseError(
                .forbidden, field: field, value: String(target),
                "event v\(target) is \(recorded.event.typeName): " + Self.refusal(recorded.event) + "; so it cannot be corrected or retracted by you")
        }
        switch recorded.event {
        case .eventRetracted:
            throw CaseError(.impossibleInState, field: field, value: String(target), "a retraction cannot itself be corrected or retracted")
        case .eventCorrected where !allowCorrection:
            throw CaseError(.impossibleInState, field: field, value: String(target), "correct the original event, not a correction")
        default: break
        }
        let retracted = state.history.contains {
            if case .eventRetracted(let retraction) = $0.event { retraction.targetVersion == target } else { false }
        }
        if retracted {
            throw CaseError(.duplicate, field: field, value: String(target), "event v\(target) has already been retracted")
        }
    }

    /// Why `event` needs more than the actor has, in plain words.
    static func refusal(_ event: CaseEvent) -> String {
        switch event.requiredAuthority {
        case .scheduler: "only the deadline scheduler records it"
        case .assignCases: "assigning a case is for managers and admins"
        case .logEvents: "logging events needs a caseworker, manager or admin"
        }
    }

    /// Every date of a new event, its day and each date in its data, falls in `CivilDate.acceptedYears`:
    /// a year like 0000 or 9999 is a slip of the keyboard, not a statutory fact, and no clock can be
    /// counted from it. Checked on new events only, so a stored event never becomes unreadable.
    static func checkYears(_ recorded: RecordedEvent) throws(CaseError) {
        func check(_ date: CivilDate, field: String) throws(CaseError) {
            guard CivilDate.acceptedYears.contains(date.year) else {
                throw CaseError(
                    .invalidField, field: field, value: date.description,
                    "must be a date in the years \(CivilDate.acceptedYears.lowerBound) to \(CivilDate.acceptedYears.upperBound)")
            }
        }
        try check(recorded.occurredOn, field: "occurredOn")
        for (name, date) in recorded.event.payloadDates { try check(date, field: "data." + name) }
    }

    /// Dates: never in the future; never before the case was opened.
    func checkDate(_ recorded: RecordedEvent, facts: CaseFacts?, today: CivilDate) throws(CaseError) {
        if recorded.occurredOn > today {
            throw CaseError(
                .futureDate, field: "occurredOn", value: recorded.occurredOn.description, "is after today (\(today)); events record what has happened"
            )
        }
        if let facts, let opened = facts.openedOn, recorded.occurredOn < opened, !recorded.event.opensCase {
            throw CaseError(
                .beforeCaseOpened, field: "occurredOn", value: recorded.occurredOn.description,
                "is before the case was opened by \(facts.openedBy?.rawValue ?? "its first event") on \(opened)")
        }
    }
}
