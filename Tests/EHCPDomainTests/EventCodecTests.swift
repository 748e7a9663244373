import EHCPDomain
import Foundation
import Testing

@Suite("Event codec")
struct EventCodecTests {
    static let samples: [CaseEvent] = [
        .requestReceived(RequestReceived(requestSource: .youngPerson, childId: "c1")), .decidedToAssess,
        .adviceRequested(AdviceRequested(adviceId: "a", adviceType: .psychological, provider: "EP service", receivedByProviderOn: date("2025-04-14"))),
        .exceptionRecorded(ExceptionRecorded(exceptionId: "x", ground: .closure, rules: [.final20W, .decide6W], adviceId: "a", from: date("2025-07-23"), to: date("2025-09-02"), setting: "Oak")),
        .reviewDecisionMade(ReviewDecisionMade(reviewId: "r", decision: .amend)),
        .phaseTransferDue(PhaseTransferDue(transferYear: 2026, kind: .post16Other, transferOn: date("2026-01-05"))),
        .eventCorrected(EventCorrected(targetVersion: 2, occurredOn: date("2025-04-01"), data: .object(["adviceId": .string("a")]), reason: "typo")),
        .deadlineReminderSent(DeadlineReminderSent(rule: .final20W, dueOn: date("2025-07-21"), daysBefore: 28)),
        .planCeased(PlanCeased(reason: 3)), .tribunalOrderMade(TribunalOrderMade(order: .makePlan)),
    ]

    @Test("every sample round-trips through its stored form", arguments: samples)
    func roundTrip(_ event: CaseEvent) throws {
        let data = JSONValue.object(EventCodec.encode(event))
        #expect(try EventCodec.decode(type: event.typeName, data: data) == event)
    }

    @Test("stored type names are the vocabulary's, not Swift's")
    func typeNames() {
        #expect(CaseEvent.decidedToAssess.typeName == "DecidedToAssess")
        #expect(Set(EventKind.allCases.map(\.rawValue)).count == EventKind.allCases.count)
    }

    @Test("bad input names the field and the value", arguments: [
        ("RequestReceived", #"{"requestSource":"neighbour"}"#, "data.requestSource", "neighbour"),
        ("AdviceRequested", #"{"adviceId":"a"}"#, "data.adviceType", nil),
        ("AdviceRequested", #"{"adviceId":"a","adviceType":"health","receivedByProviderOn":"2025-02-30"}"#, "data.receivedByProviderOn", "2025-02-30"),
        ("DecidedToAssess", #"{"surprise":1}"#, "data.surprise", nil),
        ("ExceptionRecorded", #"{"exceptionId":"x","ground":"absence","rules":["R-NOPE"]}"#, "data.rules[0]", "R-NOPE"),
        ("Teleported", "{}", "type", "Teleported"),
    ] as [(String, String, String, String?)])
    func badInput(_ type: String, _ json: String, _ field: String, _ value: String?) throws {
        let data = try JSONDecoder().decode(JSONValue.self, from: Data(json.utf8))
        do {
            _ = try EventCodec.decode(type: type, data: data)
            Issue.record("accepted \(json)")
        } catch {
            #expect(error.field == field)
            #expect(error.value == value)
        }
    }
}
