import EHCPDomain
import Testing

@Suite("Disagreements: mediation, appeals, orders, concessions")
struct DisagreementTests {
    let refused: [(String, CaseEvent)] = [opened, ("2025-04-14", .decidedNotToAssess)]

    @Test("an order to assess reopens the decision and starts the reg 44(2)(b) clocks")
    func orderToAssess() throws {
        let state = try given(refused + [("2025-09-01", .tribunalOrderMade(TribunalOrderMade(order: .assess)))])
        let events = try when(state, "2025-09-10", .decidedToAssess).get()
        var after = state
        for event in events { after.evolve(event) }
        #expect(after.deadline(.orderAssessNotify2W, asOf: "2025-10-01")?.status == .met)
        #expect(after.deadline(.orderAssessFinal14W, asOf: "2025-10-01")?.dueOn == date("2025-12-08"))
    }

    @Test("without an order, a second decision after a refusal is refused")
    func noReopenWithoutOrder() throws {
        guard case .failure(let error) = when(try given(refused), "2025-05-01", .decidedToAssess) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .duplicate)
    }

    @Test("a conceded refusal revives the original 20 weeks (R (W) v Hertfordshire)")
    func concession() throws {
        let state = try given(refused + [("2025-06-02", .appealConceded(AppealReference(appealType: .refusalToAssess)))])
        #expect(state.deadline(.final20W, asOf: "2025-07-22")?.status == .breached)
        #expect(state.deadline(.unopposedAssessNotify2W, asOf: "2025-06-03")?.dueOn == date("2025-06-16"))
    }

    @Test("the appeal window is informational: it rolls out of August and is met by an appeal")
    func appealWindow() throws {
        let state = try given([("2025-05-07", .requestReceived(RequestReceived(requestSource: .parent))), ("2025-06-20", .decidedNotToAssess)])
        let window = try #require(state.deadline(.appealWindow, asOf: "2025-07-01"))
        #expect(window.dueOn == date("2025-09-01"))
        #expect(RuleID.appealWindow.kind == .informational)
    }
}

@Suite("Closure exceptions the service suggests (§3)")
struct ClosureSuggestionTests {
    let summer = SettingClosures.Closure(from: date("2025-07-23"), to: date("2025-09-02"))

    func caseWithAdvice(on day: String, provider: String?) throws -> CaseState {
        try given([
            ("2025-05-12", .requestReceived(RequestReceived(requestSource: .parent))), ("2025-06-16", .decidedToAssess),
            (day, .adviceRequested(AdviceRequested(adviceId: "sch", adviceType: .educational, provider: provider))),
        ])
    }

    @Test(
        "advice requested inside a setting's closure window is suggested, and the suggestion is accepted by decide",
        arguments: [("2025-07-16", true), ("2025-08-27", true), ("2025-07-15", false), ("2025-08-28", false)])
    func suggestion(_ day: String, _ suggested: Bool) throws {
        let state = try caseWithAdvice(on: day, provider: "Oak Primary")
        let suggestions = state.suggestedClosureExceptions(SettingClosures(bySetting: ["Oak Primary": [summer]]))
        #expect(suggestions.count == (suggested ? 1 : 0))
        if let suggestion = suggestions.first {
            #expect(throws: Never.self) { try when(state, day, .exceptionRecorded(suggestion.exception(id: "c1"))).get() }
        }
    }

    @Test("council-wide term dates apply to settings without their own; short closures never qualify")
    func councilWide() throws {
        let state = try caseWithAdvice(on: "2025-07-20", provider: "Elm Academy")
        #expect(state.suggestedClosureExceptions(SettingClosures(councilWide: [summer])).count == 1)
        let halfTerm = SettingClosures.Closure(from: date("2025-07-23"), to: date("2025-08-10"))
        #expect(state.suggestedClosureExceptions(SettingClosures(councilWide: [halfTerm])).isEmpty)
    }

    @Test("a council that begins recording notices on a day checks only the decisions from that day; appeal windows still run")
    func decisionNoticesFrom() throws {
        let state = try given([opened, ("2025-04-14", .decidedNotToAssess)])
        let from = { (day: String) -> [Deadline] in
            DeadlineEngine(calendar: Fixture.calendar, settings: LocalSettings(decisionNoticesFrom: date(day))).report(
                for: state.effective, asOf: date("2025-06-01")
            ).deadlines
        }
        #expect(from("2025-04-15").contains { $0.rule == RuleID.appealWindow })
        #expect(!from("2025-04-15").contains { $0.rule == RuleID.decisionNotice5WD })
        #expect(from("2025-04-14").first { $0.rule == RuleID.decisionNotice5WD }?.status == .breached)
    }
}
