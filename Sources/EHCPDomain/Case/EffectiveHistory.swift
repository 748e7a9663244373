/// The history a case's deadlines and KPIs are computed from: every event as last corrected, without
/// retracted events and without the correction and retraction events themselves (§4: history is never
/// rewritten in place; corrections are events that point at earlier ones).
public enum EffectiveHistory {
    public static func resolve(_ history: [RecordedEvent]) -> [RecordedEvent] {
        var retracted = Set<Int>()
        var hasCorrections = false
        for recorded in history {
            switch recorded.event {
            case .eventRetracted(let retraction):
                retracted.insert(retraction.targetVersion)
                hasCorrections = true
            case .eventCorrected: hasCorrections = true
            default: break
            }
        }
        guard hasCorrections else { return history }
        // The latest correction of each target that has not itself been retracted wins.
        var corrections: [Int: EventCorrected] = [:]
        for recorded in history where !retracted.contains(recorded.version) {
            if case .eventCorrected(let correction) = recorded.event { corrections[correction.targetVersion] = correction }
        }
        return history.compactMap { recorded in
            switch recorded.event {
            case .eventCorrected, .eventRetracted: return nil
            default: break
            }
            guard !retracted.contains(recorded.version) else { return nil }
            guard let correction = corrections[recorded.version] else { return recorded }
            return (try? apply(correction, to: recorded)) ?? recorded
        }
    }

    /// The target event with a correction's new date and/or data. Throws when the new data does not fit
    /// the target's type.
    public static func apply(_ correction: EventCorrected, to target: RecordedEvent) throws(CaseError) -> RecordedEvent {
        var corrected = target
        if let occurredOn = correction.occurredOn { corrected.occurredOn = occurredOn }
        if let data = correction.data {
            corrected.event = try EventCodec.decode(type: target.event.typeName, data: data)
        }
        return corrected
    }
}
