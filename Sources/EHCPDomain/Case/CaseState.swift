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

    public init(_ event: CaseEvent, on occurredOn: CivilDate, by actor: String, today: CivilDate) {
        self.event = event
        self.occurredOn = occurredOn
        self.actor = actor
        self.today = today
    }
}
