import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Postgres
import Testing

/// The DfE's measures for 2025 over a caseload worked out by hand (census 15 January 2026):
///
/// | plan | made | review due | meeting | decision | counts as |
/// |---|---|---|---|---|---|
/// | P1 | 2024-03-04 | 2025-03-03 | 2025-02-03 | 2025-03-03 maintain (28 days) | completed, within 4 weeks; aged 9 on 31 Aug 2025 |
/// | P2 | 2024-04-01 | 2025-03-31 | 2025-03-03 | 2025-04-01 amend (29 days) | completed, over 4 weeks; aged 10 |
/// | P3 | 2024-12-02 | 2025-12-01 | 2025-12-15 | 2026-01-06 | meeting in 2025, decision in 2026: not completed in 2025 |
/// | P4 | 2025-03-03 | 2026-03-02 | — | — | no review expected in 2025 |
/// | P5 | 2024-02-05 | 2025-02-04 | — | — | ceased 1 June 2025: not in place at the census |
///
/// Phase transfers due 14 February 2025 ("before 15 February"): P1's amended plan on 14 February is in
/// time, P2's on 15 February is not. Requests: R1 decided on day 42 (within 6 weeks), R2 on day 43.
@Suite("The DfE's annual-review, phase-transfer and request-outcome measures against hand-computed figures")
struct DfEMeasuresTests {
    @Test("reviews expected, completed, outcomes and 4-week decisions at their edges; transfers by the statutory date; 6-week outcomes")
    func handComputed() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        let plan = CaseEvent.finalPlanIssued(PlanIssued())
        let amended = CaseEvent.amendedPlanIssued(PlanIssued())
        func opening(_ request: String, _ decided: String, _ draft: String, _ final: String) -> [(CaseEvent, String)] {
            [
                (.requestReceived(RequestReceived(requestSource: .parent)), request), (.decidedToAssess, decided), (.draftPlanIssued, draft),
                (plan, final),
            ]
        }
        let meeting = { (id: String) in CaseEvent.reviewMeetingHeld(ReviewReference(reviewId: id)) }
        let decision = { (id: String, made: ReviewDecision) in CaseEvent.reviewDecisionMade(ReviewDecisionMade(reviewId: id, decision: made)) }
        let transfer = CaseEvent.phaseTransferDue(PhaseTransferDue(transferYear: 2025, kind: .school))
        let p1 = try await harness.record(
            "P1",
            opening("2023-10-16", "2023-11-20", "2024-02-05", "2024-03-04") + [
                (transfer, "2024-09-02"), (meeting("r1"), "2025-02-03"), (amended, "2025-02-14"), (decision("r1", .maintain), "2025-03-03"),
            ])
        let p2 = try await harness.record(
            "P2",
            opening("2023-11-13", "2023-12-18", "2024-03-04", "2024-04-01") + [
                (transfer, "2024-09-02"), (amended, "2025-02-15"), (meeting("r1"), "2025-03-03"), (decision("r1", .amend), "2025-04-01"),
            ])
        try await harness.record(
            "P3",
            opening("2024-07-01", "2024-08-05", "2024-11-04", "2024-12-02") + [
                (meeting("r1"), "2025-12-15"), (decision("r1", .maintain), "2026-01-06"),
            ])
        try await harness.record("P4", opening("2024-10-14", "2024-11-18", "2025-02-03", "2025-03-03"))
        try await harness.record(
            "P5", opening("2023-09-04", "2023-10-09", "2024-01-08", "2024-02-05") + [(.planCeased(PlanCeased(reason: 4)), "2025-06-01")])
        try await harness.record("R1", [(.requestReceived(RequestReceived(requestSource: .school)), "2025-03-03"), (.decidedToAssess, "2025-04-14")])
        try await harness.record("R2", [(.requestReceived(RequestReceived(requestSource: .school)), "2025-03-03"), (.decidedToAssess, "2025-04-15")])
        // Children for P1 and P2: born the day after and the day of 31 August, ten years before.
        let owner = try harness.database.connect()
        defer { owner.close() }
        for (caseId, born) in [(p1, "2015-09-01"), (p2, "2015-08-31")] {
            let child = UUID()
            try owner.query("INSERT INTO children (child_id, council_id, born_on) VALUES ($1, $2, $3::date)", [child, harness.council, born])
            try owner.query("UPDATE case_summary SET child_id = $1 WHERE case_id = $2", [child, caseId])
        }

        let result = try await harness.read { try DfEMeasures().run(year: 2025, on: $0) }
        #expect(result.census == date("2026-01-15"))
        let total = try #require(result.annualReviews.first)
        #expect(total.breakdown == "Total")
        #expect(total.reviewExpected == 3 && total.reviewNotExpected == 1)
        #expect(total.reviewCompleted == 2 && total.reviewNotCompleted == 1)
        #expect(total.meetingsHeld == 3)
        #expect(total.outcomeAmended == 1 && total.outcomeMaintained == 1 && total.outcomeCeased == 0 && total.noOutcomeRecorded == 0)
        #expect(total.decision4Weeks == 1 && total.decisionOver4Weeks == 1)
        #expect(total.decision4Weeks + total.decisionOver4Weeks == total.reviewCompleted)
        let byAge = Dictionary(uniqueKeysWithValues: result.annualReviews.dropFirst().map { ($0.breakdown, $0) })
        #expect(byAge["aged 9"]?.decision4Weeks == 1 && byAge["aged 9"]?.reviewCompleted == 1)
        #expect(byAge["aged 10"]?.decisionOver4Weeks == 1 && byAge["aged 10"]?.outcomeAmended == 1)
        #expect(byAge["age unknown"]?.reviewExpected == 1 && byAge["age unknown"]?.reviewNotExpected == 1)

        let school = try #require(result.phaseTransfers.first { $0.breakdown.hasPrefix("school") })
        #expect(school.due == 2 && school.finalByDeadline == 1)
        #expect(result.requests.requestOutcomeSixWeeks == 1 && result.requests.requestOutcomeOver6Weeks == 1)
        #expect(result.requests.requestOutcomeSixWeeksPc == 50.0)
        #expect(result.england.annualReviews?.decision4Weeks == 161_396)
        #expect(result.csv(.annualReviews).hasPrefix("time_period,breakdown,review_expected,review_not_expected,review_completed"))
        #expect(result.csv(.annualReviews).contains("2025,Total,3,1,2,1,3,1,1,0,0,1,1\r\n"))
        #expect(result.csv(.phaseTransfers).contains("time_period,breakdown,due_25,final_25\r\n2025,school transfer (15 February),2,1\r\n"))
        #expect(
            result.csv(.requests)
                == "time_period,request_outcome_six_weeks,request_outcome_over_6_weeks,request_outcome_six_weeks_pc\r\n2025,1,1,50.0\r\n")

        // SEN2 for 2025: the active plans carry the latest review meeting and its outcome as the 2026 codes
        // (A amend, M maintain, C cease); P3's decision on 6 January came before the census on the 15th.
        let sen2 = try await harness.read { try SEN2Export().run(year: 2025, on: $0) }
        let active = try #require(sen2.modules.first { $0.name == "activeplans" })
        let (meetingAt, outcomeAt) = (active.header.firstIndex(of: "reviewmeeting")!, active.header.firstIndex(of: "reviewoutcome")!)
        let reviews = Set(active.rows.compactMap { row in row[meetingAt].map { "\($0) \(row[outcomeAt] ?? "none")" } })
        #expect(reviews == ["2025-02-03 M", "2025-03-03 A", "2025-12-15 M"])
        let requestsModule = try #require(sen2.modules.first { $0.name == "requests" })
        let source = requestsModule.header.firstIndex(of: "rquestsource")!
        #expect(requestsModule.rows.map { $0[source] }.sorted { ($0 ?? "") < ($1 ?? "") } == ["1", "2", "2"])  // P4 a parent's; R1, R2 a school's

        // 2026: P3's meeting was in 2025, so its 2026 decision completes no review due in 2026.
        let next = try await harness.read { try DfEMeasures().run(year: 2026, on: $0) }
        #expect(next.annualReviews.first?.meetingsHeld == 0)
    }
}
