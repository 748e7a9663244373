import EHCPDomain
import Testing

@Suite("Corrections and retractions: history is never rewritten")
struct CorrectionTests {
    @Test("a correction changes the effective date; the raw history keeps both")
    func correctionChangesEffectiveDate() throws {
        let state = try given([
            opened, ("2025-04-20", .decidedToAssess),
            ("2025-05-01", .eventCorrected(EventCorrected(targetVersion: 2, occurredOn: date("2025-04-10"), reason: "typo"))),
        ])
        #expect(state.history.count == 3)
        #expect(state.effective.count == 2)
        #expect(state.deadline(.decide6W, asOf: "2025-06-01")?.status == .met)
        #expect(state.deadline(.decide6W, asOf: "2025-06-01")?.metOn == date("2025-04-10"))
    }

    @Test("a correction's data must fit the target's type, and names the bad field")
    func correctionDataChecked() throws {
        let state = try given([opened, ("2025-04-11", .adviceRequested(AdviceRequested(adviceId: "a", adviceType: .health)))])
        let bad = EventCorrected(targetVersion: 2, data: .object(["adviceId": .string("a"), "adviceType": .string("astrology")]), reason: "x")
        guard case .failure(let error) = when(state, "2025-05-01", .eventCorrected(bad)) else {
            Issue.record("accepted")
            return
        }
        #expect(error.field == "data.adviceType" && error.value == "astrology")
    }

    @Test("retracting the request would strand later events: refused")
    func retractionRevalidates() throws {
        let state = try given([opened, ("2025-04-01", .decidedToAssess)])
        guard case .failure(let error) = when(state, "2025-05-01", .eventRetracted(EventRetracted(targetVersion: 1, reason: "oops"))) else {
            Issue.record("accepted")
            return
        }
        #expect(error.message.contains("v2"))
    }

    @Test("unknown or already-retracted targets are refused")
    func targets() throws {
        let state = try given([
            opened, ("2025-04-01", .caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann"))),
            ("2025-04-02", .eventRetracted(EventRetracted(targetVersion: 2, reason: "wrong case"))),
        ])
        #expect(throws: CaseError.self) { try when(state, "2025-05-01", .eventRetracted(EventRetracted(targetVersion: 9, reason: "x"))).get() }
        #expect(throws: CaseError.self) { try when(state, "2025-05-01", .eventRetracted(EventRetracted(targetVersion: 2, reason: "x"))).get() }
        #expect(throws: CaseError.self) { try when(state, "2025-05-01", .eventRetracted(EventRetracted(targetVersion: 3, reason: "x"))).get() }
    }
}
