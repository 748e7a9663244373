/// When schools, colleges and early-years settings close for four weeks or more (the summer holiday,
/// in practice): per setting, or for the whole council. Configurable, never hard-coded.
public struct SettingClosures: Sendable, Hashable, Codable {
    /// A continuous closure, first and last closed day inclusive.
    public struct Closure: Sendable, Hashable, Codable {
        public var from: CivilDate
        public var to: CivilDate
        public init(from: CivilDate, to: CivilDate) {
            self.from = from
            self.to = to
        }

        /// Reg 10(4)(a)/(b): only a closure of at least 4 continuous weeks counts.
        public var qualifies: Bool { from.days(until: to) + 1 >= 28 }

        /// One week before the setting closed to one week before it re-opened.
        public var requestWindow: ClosedRange<CivilDate> { from.adding(days: -7)...to.adding(days: 1).adding(days: -7) }
    }

    /// Closures by setting name (as given in `AdviceRequested.provider`).
    public var bySetting: [String: [Closure]]
    /// Closures that apply to every setting without its own dates (the council's term dates).
    public var councilWide: [Closure]

    public init(bySetting: [String: [Closure]] = [:], councilWide: [Closure] = []) {
        self.bySetting = bySetting
        self.councilWide = councilWide
    }

    public func closures(for setting: String?) -> [Closure] {
        setting.flatMap { bySetting[$0] } ?? councilWide
    }
}

/// A closure exception the service proposes for a caseworker to confirm (statutory-timescales.md §3).
public struct SuggestedException: Sendable, Hashable {
    public var adviceId: String
    public var setting: String?
    public var closure: SettingClosures.Closure
    /// Ready to record once the caseworker confirms it (with their own `exceptionId`).
    public func exception(id: String) -> ExceptionRecorded {
        ExceptionRecorded(
            exceptionId: id, ground: .closure, rules: [.final20W], adviceId: adviceId, from: closure.from, to: closure.to,
            setting: setting, reason: "advice requested around the setting's closure of four weeks or more")
    }
}

extension CaseState {
    /// Closure exceptions this case could claim: advice requested from a setting within one week of its
    /// qualifying closure, with no closure exception recorded for that request yet.
    public func suggestedClosureExceptions(_ closures: SettingClosures) -> [SuggestedException] {
        var claimed = Set<String>()
        var suggestions: [SuggestedException] = []
        for recorded in effective {
            if case .exceptionRecorded(let exception) = recorded.event, exception.ground == .closure, let id = exception.adviceId {
                claimed.insert(id)
            }
        }
        for recorded in effective {
            guard case .adviceRequested(let advice) = recorded.event, advice.adviceType.comesFromASetting, !claimed.contains(advice.adviceId)
            else { continue }
            for closure in closures.closures(for: advice.provider) where closure.qualifies && closure.requestWindow.contains(recorded.occurredOn) {
                suggestions.append(SuggestedException(adviceId: advice.adviceId, setting: advice.provider, closure: closure))
            }
        }
        return suggestions
    }
}
