/// Folds a scenario's events through the same `decide` path the API uses and evaluates the deadlines.
public struct ScenarioRunner: Sendable {
    public let decider: CaseDecider

    public init(decider: CaseDecider) { self.decider = decider }

    public func run(_ scenario: Scenario) -> ScenarioOutcome {
        var state = CaseState()
        var failure: ScenarioOutcome.ErrorLine?
        guard let asOf = CivilDate(iso: scenario.asOf) else {
            return ScenarioOutcome(
                name: scenario.name, deadlines: [], flags: [],
                error: .init(
                    rule: nil, message: "asOf '\(scenario.asOf)' is not a YYYY-MM-DD date", code: CaseError.Code.invalidField.rawValue, field: "asOf",
                    value: scenario.asOf))
        }
        for (index, input) in scenario.events.enumerated() {
            do throws(CaseError) {
                guard let occurredOn = CivilDate(iso: input.occurredOn) else {
                    throw CaseError(.invalidField, field: "occurredOn", value: input.occurredOn, "is not a YYYY-MM-DD date")
                }
                // events.md lets files carry optional fields freely: unknown fields are ignored here.
                let event = try EventCodec.decode(type: input.type, data: input.data ?? .object([:]), strict: false)
                let command = LogEvent(event, on: occurredOn, by: "scenario", today: asOf)
                for recorded in try decider.decide(state, command) { state.evolve(recorded) }
            } catch {
                failure = .init(
                    rule: error.rule?.rawValue, message: error.description, code: error.code.rawValue,
                    field: error.field, value: error.value, event: index + 1)
                break
            }
        }
        let report = state.deadlines(decider.engine, asOf: asOf)
        return ScenarioOutcome(
            name: scenario.name,
            deadlines: report.deadlines.map {
                .init(rule: $0.rule.rawValue, key: $0.key, dueOn: $0.dueOn.description, status: $0.status.rawValue, metOn: $0.metOn?.description)
            },
            flags: report.flags, error: failure)
    }

    /// Differences between the outcome and the scenario's `expect`, one readable line each.
    public static func mismatches(_ outcome: ScenarioOutcome, against expectation: Scenario.Expectation?) -> [String] {
        guard let expectation else { return [] }
        var problems: [String] = []
        let rejected = expectation.rejected ?? false
        if rejected && outcome.error == nil { problems.append("expected an event to be rejected, but every event was accepted") }
        if !rejected, let error = outcome.error { problems.append("unexpected rejection of event \(error.event ?? 0): \(error.message)") }
        for expected in expectation.deadlines ?? [] {
            let candidates = outcome.deadlines.filter {
                $0.rule == expected.rule && $0.dueOn == expected.dueOn && (expected.key == nil || $0.key == expected.key)
            }
            let label = "\(expected.rule)\(expected.key.map { "[\($0)]" } ?? "") due \(expected.dueOn)"
            if candidates.isEmpty {
                let sameRule = outcome.deadlines.filter { $0.rule == expected.rule }.map { "\($0.dueOn) \($0.status)" }
                problems.append("\(label): not produced (engine has \(sameRule.isEmpty ? "none of that rule" : sameRule.joined(separator: ", ")))")
                continue
            }
            let status = expected.status.map { DeadlineStatus(expected: $0)?.rawValue ?? $0 }
            let matches = candidates.contains { (status == nil || $0.status == status) && $0.metOn == expected.metOn }
            if !matches {
                let got = candidates.map { "\($0.status) metOn \($0.metOn ?? "null")" }.joined(separator: "; ")
                problems.append("\(label): expected \(expected.status ?? "?") metOn \(expected.metOn ?? "null"), got \(got)")
            }
        }
        for rule in expectation.flags ?? [] where !outcome.flags.contains(where: { $0.rule.rawValue == rule }) {
            problems.append("expected a flag for \(rule); flags were: \(outcome.flags.map(\.rule.rawValue))")
        }
        return problems
    }
}
