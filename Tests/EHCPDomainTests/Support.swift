import EHCPDomain
import Foundation

/// Shared fixtures for the domain tests: fixed dates, the real bank-holiday calendar, a decider.
enum Fixture {
    static let calendar = try! WorkingDayCalendar.englandAndWales()
    static let engine = DeadlineEngine(calendar: calendar)
    static let decider = CaseDecider(engine: engine)

    /// The repository root (three levels above this file).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
}

func date(_ text: String) -> CivilDate { CivilDate(iso: text)! }

/// Given events, folded through `decide` exactly as the API would record them.
func given(_ events: [(String, CaseEvent)], today: String = "2026-11-22") throws -> CaseState {
    var state = CaseState()
    for (day, event) in events {
        for recorded in try Fixture.decider.decide(state, LogEvent(event, on: date(day), by: "test", today: date(today))) {
            state.evolve(recorded)
        }
    }
    return state
}

/// When `event` is logged: the new events, or the error.
func when(_ state: CaseState, _ day: String, _ event: CaseEvent, today: String = "2026-11-22") -> Result<[RecordedEvent], CaseError> {
    Result { () throws(CaseError) in try Fixture.decider.decide(state, LogEvent(event, on: date(day), by: "test", today: date(today))) }
}

extension CaseState {
    func deadline(_ rule: RuleID, key: String? = nil, asOf today: String) -> Deadline? {
        deadlines(Fixture.engine, asOf: date(today)).deadlines.last { $0.rule == rule && (key == nil || $0.key == key) }
    }
}

let opened: (String, CaseEvent) = ("2025-03-03", .requestReceived(RequestReceived(requestSource: .parent)))
