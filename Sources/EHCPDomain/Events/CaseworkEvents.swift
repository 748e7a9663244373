/// Who is working the case.
public struct CaseworkerAssigned: Sendable, Hashable, Codable {
    public var caseworker: String
    public var team: String?
    public init(caseworker: String, team: String? = nil) {
        self.caseworker = caseworker
        self.team = team
    }
}

/// Replaces the date and/or data of an earlier event. History is never edited in place (§4).
public struct EventCorrected: Sendable, Hashable, Codable {
    public var targetVersion: Int
    public var occurredOn: CivilDate?
    public var data: JSONValue?
    public var reason: String
    public init(targetVersion: Int, occurredOn: CivilDate? = nil, data: JSONValue? = nil, reason: String) {
        self.targetVersion = targetVersion
        self.occurredOn = occurredOn
        self.data = data
        self.reason = reason
    }
}

/// Withdraws an earlier event (or an earlier correction) from the effective history.
public struct EventRetracted: Sendable, Hashable, Codable {
    public var targetVersion: Int
    public var reason: String
    public init(targetVersion: Int, reason: String) {
        self.targetVersion = targetVersion
        self.reason = reason
    }
}

/// Recorded by the scheduler (actor `system`) when a deadline passes unmet.
public struct DeadlineBreached: Sendable, Hashable, Codable {
    public var rule: RuleID
    public var dueOn: CivilDate
    public var key: String?
    public init(rule: RuleID, dueOn: CivilDate, key: String? = nil) {
        self.rule = rule
        self.dueOn = dueOn
        self.key = key
    }
}

/// Recorded by the scheduler when it reminds people of a deadline.
public struct DeadlineReminderSent: Sendable, Hashable, Codable {
    public var rule: RuleID
    public var dueOn: CivilDate
    public var daysBefore: Int
    public var key: String?
    public init(rule: RuleID, dueOn: CivilDate, daysBefore: Int, key: String? = nil) {
        self.rule = rule
        self.dueOn = dueOn
        self.daysBefore = daysBefore
        self.key = key
    }
}
