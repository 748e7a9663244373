import EHCPDomain
import Testing

@Suite("Exceptions (§3): an excuse, never an extension")
struct ExceptionTests {
    let base: [(String, CaseEvent)] = [opened, ("2025-04-01", .decidedToAssess)]

    func absence(_ from: String, _ to: String, rules: [RuleID] = [.final20W]) -> CaseEvent {
        .exceptionRecorded(ExceptionRecorded(exceptionId: "x", ground: .absence, rules: rules, from: date(from), to: date(to)))
    }

    @Test(
        "absence shorter than 4 weeks is rejected with the length and the rule",
        arguments: [("2025-05-01", "2025-05-27", false), ("2025-05-01", "2025-05-28", true)])
    func absenceLength(_ from: String, _ to: String, _ fits: Bool) throws {
        let result = when(try given(base), "2025-06-01", absence(from, to))
        switch (result, fits) {
        case (.success, true): break
        case (.failure(let error), false):
            #expect(error.code == .exceptionDoesNotFit && error.rule == .final20W && error.message.contains("27 days"))
        default: Issue.record("\(from)…\(to): \(result)")
        }
    }

    @Test("absence outside the deadline's period does not fit")
    func absenceOutsidePeriod() throws {
        let state = try given(base + [("2025-09-01", .finalPlanIssued(PlanIssued()))], today: "2025-12-01")
        let result = when(state, "2025-11-01", absence("2025-09-01", "2025-10-15"), today: "2025-12-01")
        guard case .failure(let error) = result else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .exceptionDoesNotFit)
    }

    @Test("the due date never moves; the status becomes excepted when it passes")
    func excuseNotExtension() throws {
        let state = try given(base + [("2025-06-01", absence("2025-05-01", "2025-06-04"))])
        let due = try #require(state.deadline(.final20W, asOf: "2025-07-21"))
        #expect(due.dueOn == date("2025-07-21") && due.status == .open && due.exceptionIds == ["x"])
        #expect(state.deadline(.final20W, asOf: "2025-07-22")?.status == .excepted)
        #expect(state.deadline(.final20W, asOf: "2025-07-22")?.daysOverdue(asOf: date("2025-08-01")) == 11)
    }

    @Test("rules without statutory exceptions refuse them")
    func noExceptionsForLocalRules() throws {
        let result = when(
            try given(base), "2025-06-01",
            .exceptionRecorded(ExceptionRecorded(exceptionId: "x", ground: .personalCircumstances, rules: [.outcomesLocal])))
        guard case .failure(let error) = result else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .exceptionDoesNotFit && error.rule == .outcomesLocal)
    }

    @Test("an exception for a deadline the case does not have is refused")
    func noSuchClock() throws {
        let result = when(
            try given(base), "2025-06-01",
            .exceptionRecorded(ExceptionRecorded(exceptionId: "x", ground: .personalCircumstances, rules: [.reassessFinal14W])))
        guard case .failure(let error) = result else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .unknownReference)
    }
}
