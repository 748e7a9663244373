import EHCPDomain
import Foundation
import Testing

@Suite("Event codec")
struct EventCodecTests {
    static let samples: [CaseEvent] = [
        .requestReceived(RequestReceived(requestSource: .youngPerson, childId: "c1")), .decidedToAssess,
        .adviceRequested(
            AdviceRequested(adviceId: "a", adviceType: .psychological, provider: "EP service", receivedByProviderOn: date("2025-04-14"))),
        .exceptionRecorded(
            ExceptionRecorded(
                exceptionId: "x", ground: .closure, rules: [.final20W, .decide6W], adviceId: "a", from: date("2025-07-23"), to: date("2025-09-02"),
                setting: "Oak")),
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

    @Test(
        "bad input names the field and the value",
        arguments: [
            ("RequestReceived", #"{"requestSource":"neighbour"}"#, "data.requestSource", "neighbour"),
            ("AdviceRequested", #"{"adviceId":"a"}"#, "data.adviceType", nil),
            (
                "AdviceRequested", #"{"adviceId":"a","adviceType":"health","receivedByProviderOn":"2025-02-30"}"#, "data.receivedByProviderOn",
                "2025-02-30"
            ),
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

extension EventCodecTests {
    static let storedScheduleEvents: [(type: String, data: String)] = [
        ("DeadlineBreached", #"{"rule": "R-DECIDE-6W", "dueOn": "2024-09-27"}"#),
        ("DeadlineBreached", #"{"rule": "R-ADVICE-6W", "dueOn": "2024-09-27", "key": "adv-1"}"#),
        ("DeadlineBreached", #"{"rule": "R-ADVICE-6W", "dueOn": "2024-09-27", "key": null, "extra": 1}"#),
        ("DeadlineBreached", #"{"rule": "R-NOT-A-RULE", "dueOn": "2024-09-27"}"#),
        ("DeadlineBreached", #"{"rule": "R-DECIDE-6W", "dueOn": "2024-9-27"}"#),
        ("DeadlineBreached", #"{"rule": "R-DECIDE-6W", "dueOn": "2024-09-27", "key": 7}"#),
        ("DeadlineBreached", #"{"dueOn": "2024-09-27"}"#),
        ("DeadlineReminderSent", #"{"rule": "R-REVIEW-12M", "dueOn": "2025-06-03", "daysBefore": 56}"#),
        ("DeadlineReminderSent", #"{"rule": "R-REVIEW-12M", "dueOn": "2025-06-03", "daysBefore": 56, "key": "r2"}"#),
        ("DeadlineReminderSent", #"{"rule": "R-REVIEW-12M", "dueOn": "2025-06-03", "daysBefore": 2.5}"#),
        ("DeadlineReminderSent", #"{"rule": "R-REVIEW-12M", "dueOn": "2025-06-03", "daysBefore": "56"}"#),
        ("DeadlineReminderSent", #"{"rule": "R-REVIEW-12M", "dueOn": "2025-06-03"}"#),
    ]

    /// The store reads the scheduler's events without `Decodable`; what it reads, and what it refuses,
    /// must be what Foundation's decoder of the payload types makes of the same text.
    @Test("stored reminders and breaches read as their Codable payloads read them", arguments: storedScheduleEvents)
    func storedScheduleEvent(_ stored: (type: String, data: String)) throws {
        let data = Data(stored.data.utf8)
        let expected: CaseEvent? =
            stored.type == "DeadlineBreached"
            ? (try? JSONDecoder().decode(DeadlineBreached.self, from: data)).map(CaseEvent.deadlineBreached)
            : (try? JSONDecoder().decode(DeadlineReminderSent.self, from: data)).map(CaseEvent.deadlineReminderSent)
        if let expected {
            #expect(try EventCodec.decodeStored(type: stored.type, json: stored.data, schemaVersion: 1) == expected)
        } else {
            #expect(throws: CaseError.self) { try EventCodec.decodeStored(type: stored.type, json: stored.data, schemaVersion: 1) }
        }
    }
}

@Suite("JSON parser and value decoder")
struct JSONParserTests {
    static let validDocuments: [String] = [
        #"{}"#, #"[]"#, #" { "a" : [ 1 , -0 , 2.5e3 , 1E-2 , 0.125 ] , "b" : null , "c" : true , "d" : false } "#,
        #"{"s":"quote \" slash \/ back \\ tab \t nl \n cr \r ff \f bs \b"}"#, #"{"u":"\u00e9\u20ac\ud83d\ude00 é € 😀"}"#,
        #"{"nested":{"deeper":[[],[{}],{"x":[1,[2,[3]]]}]}}"#, #""just a string""#, "123", "\n\t[ ]\r\n",
    ]

    @Test("valid documents parse to what Foundation's decoder reads", arguments: validDocuments)
    func valid(_ text: String) throws {
        let expected = try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))
        #expect(try JSONValue.parse(text) == expected)
    }

    static let invalidDocuments: [[UInt8]] =
        [
            "", " ", "{", "[1,]", #"{"a":1,}"#, "01", "1.", ".5", "-", "+1", "1e", "tru", "nul", #"{"a" 1}"#, #"{a:1}"#, #""open"#,
            "\"tab\there\"", #""\x""#, #""\u12""#, #""\ud800""#, #""\udc00x""#, "[1] [2]", "{} x", "1e999", #"{"dup":1,"dup":2}"#,
        ].map { Array($0.utf8) } + [[0x22, 0xC3, 0x28, 0x22], [0x22, 0xFF, 0x22]]

    @Test("malformed documents are refused, as Foundation refuses them", arguments: invalidDocuments)
    func invalid(_ bytes: [UInt8]) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(bytes) }
    }
}
