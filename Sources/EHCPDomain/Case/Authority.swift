/// What the person or process logging an event may do. Which authority an event needs is decided
/// here once (`CaseEvent.requiredAuthority`); the API maps roles to it, and the decider applies the
/// target's requirement to a correction or retraction, so a change can never do what the original
/// event could not.
public enum Authority: Sendable, Hashable, Comparable {
    /// Log what happened on a case (caseworkers, managers, admins).
    case logEvents
    /// Also assign cases to caseworkers: a management decision (managers and admins).
    case assignCases
    /// The deadline scheduler, and only it.
    case scheduler
}

extension CaseEvent {
    /// The authority needed to log this event, and to correct or retract it.
    public var requiredAuthority: Authority {
        switch self {
        case .deadlineBreached, .deadlineReminderSent: .scheduler
        case .caseworkerAssigned: .assignCases
        case .eventCorrected, .eventRetracted: .logEvents  // and, in the decider, the target's own authority
        default: .logEvents
        }
    }

    /// Whether `authority` may log this event. The scheduler logs only its own records, and nobody else does.
    public func mayBeLogged(with authority: Authority) -> Bool {
        let needed = requiredAuthority
        return needed == .scheduler ? authority == .scheduler : authority != .scheduler && authority >= needed
    }
}
