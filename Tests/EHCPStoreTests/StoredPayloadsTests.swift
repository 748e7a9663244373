import EHCPDomain
import Testing

@testable import EHCPStore

@Suite("Decoded payloads reused by their stored text")
struct StoredPayloadsTests {
    /// A stored reminder: each due date is a different payload text.
    func reminder(dueOn day: Int) -> String {
        #"{"rule": "R-FINAL-20W", "dueOn": "\#(CivilDate(iso: "2026-01-01")!.adding(days: day))", "daysBefore": 5}"#
    }

    @Test("a payload is decoded as the codec decodes it, the first time and every time after")
    func sameAsTheCodec() throws {
        let payloads = StoredPayloads(generationSize: 8)
        let stored = [
            ("AdviceRequested", #"{"adviceId": "adv-2", "provider": "Psychological service", "adviceType": "psychological"}"#),
            ("DecidedToAssess", "{}"),
            ("DeadlineReminderSent", reminder(dueOn: 3)),
            ("CaseworkerAssigned", #"{"team": "North", "caseworker": "Direct 7"}"#),
        ]
        for _ in 0..<3 {
            for (type, data) in stored {
                #expect(
                    try payloads.event(type: type, schemaVersion: 1, data: data) == EventCodec.decodeStored(type: type, json: data, schemaVersion: 1))
            }
        }
        #expect(payloads.count == stored.count)
        // The same text under another type is another payload.
        #expect(throws: CaseError.self) { try payloads.event(type: "RequestWithdrawn", schemaVersion: 1, data: stored[0].1) }
    }

    @Test("at most two generations are kept, and a payload in use survives a stream of payloads seen once")
    func bounded() throws {
        let payloads = StoredPayloads(generationSize: 16)
        let shared = ("AdviceReceived", #"{"adviceId": "adv-1"}"#)
        for day in 0..<1_000 {
            _ = try payloads.event(type: "DeadlineReminderSent", schemaVersion: 1, data: reminder(dueOn: day))
            #expect(payloads.count <= 32)
            if day % 10 == 0 { _ = try payloads.event(type: shared.0, schemaVersion: 1, data: shared.1) }
        }
        let before = payloads.count
        _ = try payloads.event(type: shared.0, schemaVersion: 1, data: shared.1)
        #expect(payloads.count == before, "the shared payload was still held, so reading it added nothing")
    }

    @Test("unreadable data is refused every time and never held")
    func failuresNotKept() {
        let payloads = StoredPayloads(generationSize: 8)
        for _ in 0..<2 {
            #expect(throws: CaseError.self) { try payloads.event(type: "AdviceRequested", schemaVersion: 1, data: #"{"adviceId":"#) }
        }
        #expect(payloads.count == 0)
    }
}
