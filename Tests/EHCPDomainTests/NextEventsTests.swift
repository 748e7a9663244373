import EHCPDomain
import Testing

@Suite("What may be recorded next")
struct NextEventsTests {
    private func kinds(_ state: CaseState, _ authority: Authority = .logEvents) -> [EventKind] {
        Fixture.decider.nextEvents(state, authority: authority, today: date("2026-11-22")).map(\.kind)
    }

    @Test("a new request offers the decision either way, never a review or the scheduler's records")
    func newRequest() throws {
        let state = try given([opened])
        let offered = kinds(state)
        #expect(offered.contains(.decidedToAssess) && offered.contains(.decidedNotToAssess) && offered.contains(.requestWithdrawn))
        #expect(!offered.contains(.reviewMeetingHeld) && !offered.contains(.planCeased))  // no plan to review or cease
        #expect(!offered.contains(.deadlineBreached) && !offered.contains(.requestReceived) && !offered.contains(.eventCorrected))
        #expect(!offered.contains(.caseworkerAssigned))  // a manager's decision
        #expect(kinds(state, .assignCases).contains(.caseworkerAssigned))
    }

    @Test("advice received offers exactly the advice requests still outstanding, each of which decide accepts")
    func adviceChoices() throws {
        let state = try given([
            opened, ("2025-04-01", .decidedToAssess),
            ("2025-04-02", .adviceRequested(AdviceRequested(adviceId: "A1", adviceType: .educational))),
            ("2025-04-02", .adviceRequested(AdviceRequested(adviceId: "A2", adviceType: .health))),
            ("2025-04-20", .adviceReceived(AdviceReference(adviceId: "A1"))),
        ])
        let next = Fixture.decider.nextEvents(state, authority: .logEvents, today: date("2026-11-22"))
        let advice = try #require(next.first { $0.kind == .adviceReceived })
        #expect(advice.choices["adviceId"] == ["A2"])
        #expect(!next.contains { $0.kind == .decidedToAssess })  // already decided
        for id in advice.choices["adviceId"] ?? [] {
            guard case .success = when(state, "2025-05-01", .adviceReceived(AdviceReference(adviceId: id))) else {
                Issue.record("decide refuses an offered choice \(id)")
                continue
            }
        }
    }

    @Test("a refusal to assess offers no plan, only what can reopen or close the case")
    func refused() throws {
        let state = try given([opened, ("2025-04-01", .decidedNotToAssess)])
        let offered = kinds(state)
        #expect(!offered.contains(.draftPlanIssued) && !offered.contains(.finalPlanIssued) && !offered.contains(.decidedToAssess))
        let appeal = try #require(
            Fixture.decider.nextEvents(state, authority: .logEvents, today: date("2026-11-22")).first { $0.kind == .appealLodged })
        #expect(appeal.choices["appealType"]?.contains("refusalToAssess") == true)
    }
}
