import EHCPDomain
import Testing

@Suite("Plan maintenance: reviews, amendments, cessation")
struct PlanMaintenanceTests {
    let planned: [(String, CaseEvent)] = [
        opened, ("2025-04-01", .decidedToAssess), ("2025-06-02", .draftPlanIssued), ("2025-07-14", .finalPlanIssued(PlanIssued())),
    ]

    @Test("review events need a plan")
    func reviewNeedsPlan() throws {
        let state = try given([opened])
        guard case .failure(let error) = when(state, "2025-04-01", .reviewMeetingHeld(ReviewReference(reviewId: "r1"))) else {
            Issue.record("accepted")
            return
        }
        #expect(error.code == .impossibleInState)
    }

    @Test("a review decision restarts the 12 months from its own date")
    func reviewRestarts() throws {
        let state = try given(
            planned + [
                ("2026-06-01", .reviewMeetingHeld(ReviewReference(reviewId: "r1"))),
                ("2026-06-15", .reviewDecisionMade(ReviewDecisionMade(reviewId: "r1", decision: .maintain))),
            ])
        let reviews = state.deadlines(Fixture.engine, asOf: date("2026-07-01")).deadlines.filter { $0.rule == .review12M }
        #expect(reviews.map(\.dueOn) == [date("2026-07-13"), date("2027-06-14")])
        #expect(reviews.map(\.status) == [.met, .open])
    }

    @Test("a decision not to amend needs an amendment notice first")
    func notToAmendNeedsNotice() throws {
        guard case .failure(let error) = when(try given(planned), "2025-09-01", .decidedNotToAmend(OptionalReviewReference())) else {
            Issue.record("accepted")
            return
        }
        #expect(error.rule == .amendFinal8W)
    }

    @Test("cease reasons are SEN2 codes 1 to 9", arguments: [0, 1, 9, 10])
    func ceaseReasons(_ reason: Int) throws {
        let result = when(try given(planned), "2025-09-01", .planCeased(PlanCeased(reason: reason)))
        if (1...9).contains(reason) {
            #expect(throws: Never.self) { try result.get() }
        } else {
            guard case .failure(let error) = result else {
                Issue.record("accepted \(reason)")
                return
            }
            #expect(error.field == "data.reason" && error.value == String(reason))
        }
    }

    @Test("after cessation, reviews are refused and open clocks are cancelled")
    func afterCessation() throws {
        let state = try given(planned + [("2025-09-01", .planCeased(PlanCeased(reason: 5)))])
        #expect(throws: CaseError.self) { try when(state, "2025-10-01", .reviewInvitationsSent(ReviewReference(reviewId: "r1"))).get() }
        #expect(state.deadline(.review12M, asOf: "2027-01-01")?.status == .cancelled)
    }
}
