import EHCPDomain
import Testing

/// A small deterministic random generator (SplitMix64), so failures reproduce from their seed.
struct SeededRandom: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("Properties over random histories")
struct PropertyTests {
    static let today = date("2027-06-01")

    /// Candidate events; many are invalid in a given state and `decide` refuses them.
    static func candidate(_ random: inout SeededRandom, step: Int) -> CaseEvent {
        let ids = ["a", "b", "c"]
        let id = ids.randomElement(using: &random)!
        let options: [CaseEvent] = [
            .decidedToAssess, .decidedNotToAssess, .outcomesMeetingHeld, .decidedNotToIssuePlan, .draftPlanIssued,
            .adviceRequested(AdviceRequested(adviceId: id, adviceType: AdviceType.allCases.randomElement(using: &random)!)),
            .adviceReceived(AdviceReference(adviceId: id)),
            .settingConsulted(SettingConsulted(consultationId: id, setting: "Oak")),
            .consultationResponseReceived(ConsultationResponseReceived(consultationId: id, response: .agreed)),
            .finalPlanIssued(PlanIssued()), .amendedPlanIssued(PlanIssued()),
            .reviewInvitationsSent(ReviewReference(reviewId: id)), .reviewMeetingHeld(ReviewReference(reviewId: id)),
            .reviewReportReceived(ReviewReference(reviewId: id)),
            .reviewDecisionMade(ReviewDecisionMade(reviewId: id, decision: ReviewDecision.allCases.randomElement(using: &random)!)),
            .amendmentNoticeIssued(OptionalReviewReference()), .decidedNotToAmend(OptionalReviewReference()),
            .phaseTransferDue(PhaseTransferDue(transferYear: 2026, kind: .school)), .reassessmentRequested, .decidedToReassess,
            .mediationRequested, .mediationHeld, .mediationCertificateIssued,
            .appealLodged(AppealReference(appealType: AppealType.allCases.randomElement(using: &random)!)),
            .tribunalOrderMade(TribunalOrderMade(order: TribunalOrder.allCases.randomElement(using: &random)!)),
            .appealConceded(AppealReference(appealType: AppealType.allCases.randomElement(using: &random)!)),
            .exceptionRecorded(ExceptionRecorded(exceptionId: "x\(step)", ground: .personalCircumstances, rules: [.final20W])),
            .caseworkerAssigned(CaseworkerAssigned(caseworker: "cw\(step % 3)")), .transferNoticeSent,
            .planCeased(PlanCeased(reason: Int.random(in: 1...9, using: &random))), .requestWithdrawn(Reason(reason: "r")),
        ]
        return options.randomElement(using: &random)!
    }

    static func randomHistory(seed: UInt64, attempts: Int = 120) -> CaseState {
        var random = SeededRandom(state: seed)
        var state = CaseState()
        var day = date("2025-01-06")
        let opened = try? Fixture.decider.decide(
            state, LogEvent(.requestReceived(RequestReceived(requestSource: .parent)), on: day, by: "p", today: today))
        for recorded in opened ?? [] { state.evolve(recorded) }
        for step in 0..<attempts {
            day = day.adding(days: Int.random(in: 0...12, using: &random))
            guard day <= today else { break }
            let event = candidate(&random, step: step)
            if let events = try? Fixture.decider.decide(state, LogEvent(event, on: day, by: "p", today: today)) {
                for recorded in events { state.evolve(recorded) }
            }
        }
        return state
    }

    @Test("any sequence of accepted commands folds, and every accepted history replays through decide", arguments: 0..<40)
    func foldsAndReplays(seed: UInt64) throws {
        let state = Self.randomHistory(seed: seed)
        #expect(state.history.count > 5)
        var replayed = CaseState()
        for recorded in state.history {
            let again = try Fixture.decider.decide(replayed, LogEvent(recorded.event, on: recorded.occurredOn, by: recorded.actor, today: Self.today))
            #expect(again == [recorded])
            for event in again { replayed.evolve(event) }
        }
    }

    @Test("the same history always gives the same deadlines", arguments: 0..<20)
    func deterministic(seed: UInt64) {
        let state = Self.randomHistory(seed: seed)
        let rebuilt = CaseState(history: state.history)
        for asOf in ["2025-06-01", "2026-01-01", "2027-06-01"] {
            #expect(state.deadlines(Fixture.engine, asOf: date(asOf)) == rebuilt.deadlines(Fixture.engine, asOf: date(asOf)))
        }
    }

    @Test("correcting an event and then retracting the correction gives the original deadlines", arguments: 0..<20)
    func correctThenRetract(seed: UInt64) throws {
        var random = SeededRandom(state: seed &+ 1000)
        var state = Self.randomHistory(seed: seed)
        let original = state.deadlines(Fixture.engine, asOf: Self.today)
        let targets = state.history.filter { if case .requestReceived = $0.event { false } else { true } }
        guard let target = targets.randomElement(using: &random) else { return }
        let correction = EventCorrected(
            targetVersion: target.version, occurredOn: target.occurredOn.adding(days: Int.random(in: -3...3, using: &random)), reason: "p")
        guard let corrected = try? Fixture.decider.decide(state, LogEvent(.eventCorrected(correction), on: Self.today, by: "p", today: Self.today))
        else {
            return  // the moved date would make the history impossible; refusing it is the property of another test
        }
        for event in corrected { state.evolve(event) }
        let retraction = EventRetracted(targetVersion: state.version, reason: "undo")
        for event in try Fixture.decider.decide(state, LogEvent(.eventRetracted(retraction), on: Self.today, by: "p", today: Self.today)) {
            state.evolve(event)
        }
        #expect(state.deadlines(Fixture.engine, asOf: Self.today) == original)
    }

    @Test("a stored (timeless) deadline aged to any day gives the status the engine computes for that day", arguments: 0..<20)
    func timelessStatusAges(seed: UInt64) {
        let state = Self.randomHistory(seed: seed)
        let timeless = state.timelessDeadlines(Fixture.engine).deadlines
        for asOf in stride(from: date("2025-01-01").dayNumber, through: date("2027-06-01").dayNumber, by: 11).map(CivilDate.init(dayNumber:)) {
            let live = state.deadlines(Fixture.engine, asOf: asOf).deadlines
            #expect(live.count == timeless.count)
            for (stored, expected) in zip(timeless, live) {
                let aged = DeadlineStatus.asOf(
                    asOf, stored: stored.status, kind: stored.rule.kind, dueOn: stored.dueOn, excepted: !stored.exceptionIds.isEmpty)
                #expect(aged == expected.status, "\(stored.rule.rawValue) due \(stored.dueOn) as of \(asOf)")
            }
        }
    }
}
