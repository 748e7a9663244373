import EHCPDomain
import Testing

@Suite("Initial assessment: given events, when a command, then events or an error")
struct InitialAssessmentTests {
    @Test("opening a case records the request as version 1")
    func opening() throws {
        let events = try when(CaseState(), "2025-03-03", .requestReceived(RequestReceived(requestSource: .school))).get()
        #expect(
            events == [
                RecordedEvent(
                    version: 1, occurredOn: date("2025-03-03"), event: .requestReceived(RequestReceived(requestSource: .school)), actor: "test")
            ])
    }

    @Test("nothing can be recorded before a case is opened")
    func notOpen() {
        guard case .failure(let error) = when(CaseState(), "2025-03-03", .decidedToAssess) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .caseNotOpen)
    }

    @Test("a second request on an open case is refused")
    func secondRequest() throws {
        let state = try given([opened])
        guard case .failure(let error) = when(state, "2025-03-04", .requestReceived(RequestReceived(requestSource: .parent))) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .caseAlreadyOpen)
    }

    @Test("an event dated before the request is refused, naming the field, value and request date")
    func beforeRequest() throws {
        let state = try given([opened])
        guard case .failure(let error) = when(state, "2025-02-01", .decidedToAssess) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .beforeCaseOpened)
        #expect(error.field == "occurredOn" && error.value == "2025-02-01")
        #expect(error.message.contains("2025-03-03"))
    }

    @Test("an event dated after today is refused")
    func future() throws {
        let state = try given([opened], today: "2025-04-01")
        guard case .failure(let error) = when(state, "2025-04-02", .decidedToAssess, today: "2025-04-01") else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .futureDate)
    }

    @Test("the decision whether to assess is recorded once")
    func decisionOnce() throws {
        let state = try given([opened, ("2025-04-01", .decidedToAssess)])
        guard case .failure(let error) = when(state, "2025-04-02", .decidedNotToAssess) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .duplicate && error.rule == .decide6W)
    }

    @Test("a final plan after a refusal to assess is impossible; a tribunal order reopens the assessment")
    func finalAfterRefusal() throws {
        let refused = try given([opened, ("2025-04-01", .decidedNotToAssess)])
        guard case .failure(let error) = when(refused, "2025-07-01", .finalPlanIssued(PlanIssued())) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .impossibleInState)
        let ordered = try given([opened, ("2025-04-01", .decidedNotToAssess), ("2025-08-01", .tribunalOrderMade(TribunalOrderMade(order: .assess)))])
        #expect(throws: Never.self) { try when(ordered, "2025-08-05", .decidedToAssess).get() }
    }

    @Test("advice received is refused for an unknown id, twice, or before its request")
    func adviceReferences() throws {
        let state = try given([opened, ("2025-04-11", .adviceRequested(AdviceRequested(adviceId: "h1", adviceType: .health)))])
        for (day, id, code) in [("2025-05-01", "zz", CaseError.Code.unknownReference), ("2025-04-10", "h1", .impossibleInState)] {
            guard case .failure(let error) = when(state, day, .adviceReceived(AdviceReference(adviceId: id))) else {
                Issue.record("accepted \(id)")
                continue
            }
            #expect(error.code == code)
            #expect(error.rule == .advice6W)
        }
        let received = try given([
            opened, ("2025-04-11", .adviceRequested(AdviceRequested(adviceId: "h1", adviceType: .health))),
            ("2025-05-01", .adviceReceived(AdviceReference(adviceId: "h1"))),
        ])
        guard case .failure(let error) = when(received, "2025-05-02", .adviceReceived(AdviceReference(adviceId: "h1"))) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .duplicate)
    }

    @Test("a final plan cannot follow a withdrawal; a withdrawal cannot follow a plan")
    func withdrawal() throws {
        let withdrawn = try given([opened, ("2025-04-01", .decidedToAssess), ("2025-05-01", .requestWithdrawn(Reason(reason: "moved")))])
        #expect(throws: CaseError.self) { try when(withdrawn, "2025-06-01", .finalPlanIssued(PlanIssued())).get() }
        let planned = try given([
            opened, ("2025-04-01", .decidedToAssess), ("2025-06-01", .draftPlanIssued), ("2025-07-01", .finalPlanIssued(PlanIssued())),
        ])
        #expect(throws: CaseError.self) { try when(planned, "2025-07-02", .requestWithdrawn(Reason(reason: "late"))).get() }
    }

    @Test("irregular but real: a final plan with no draft is accepted and flagged R-DRAFT-15D")
    func irregularFlagged() throws {
        let state = try given([opened, ("2025-04-01", .decidedToAssess), ("2025-07-01", .finalPlanIssued(PlanIssued()))])
        let flags = state.deadlines(Fixture.engine, asOf: date("2025-08-01")).flags
        #expect(flags.map(\.rule) == [.draft15D])
        #expect(flags.first?.version == 3)
    }
}
