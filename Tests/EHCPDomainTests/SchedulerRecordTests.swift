import EHCPDomain
import Testing

@Suite("Breach and reminder records: each happens once")
struct SchedulerRecordTests {
    let breach = CaseEvent.deadlineBreached(DeadlineBreached(rule: .decide6W, dueOn: date("2025-04-14")))

    @Test("a breach can be recorded once the deadline has passed, and only once")
    func breachOnce() throws {
        let state = try given([opened], today: "2025-04-15")
        #expect(throws: CaseError.self) { try when(state, "2025-04-14", breach, today: "2025-04-14").get() }
        let recorded = try when(state, "2025-04-15", breach, today: "2025-04-15").get()
        var after = state
        for event in recorded { after.evolve(event) }
        guard case .failure(let error) = when(after, "2025-04-16", breach, today: "2025-04-16") else {
            Issue.record("duplicate accepted")
            return
        }
        #expect(error.code == .duplicate)
    }

    @Test("a breach of a deadline that was met is refused")
    func noBreachOfMet() throws {
        let state = try given([opened, ("2025-04-01", .decidedToAssess)], today: "2025-05-01")
        #expect(throws: CaseError.self) { try when(state, "2025-05-01", breach, today: "2025-05-01").get() }
    }
}
