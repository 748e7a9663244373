import EHCPDomain
import Foundation
import Testing

@Suite("Case API: open, read, log, correct, timeline")
struct CaseAPITests {
    @Test("a caseworker opens a case, reads its deadlines, logs events, corrects and retracts one")
    func dailyWork() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase(reference: "EHC-T-1")
            let opened = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            #expect(opened.status == 200)
            #expect(opened.headers[.eTag] == "\"1\"")
            #expect(opened.string("reference") == "EHC-T-1")
            #expect(opened["child"]?.objectValue?["name"]?.string == "Ada Lovelace")
            let decide = opened.array("deadlines").first { $0["rule"]?.string == "R-DECIDE-6W" }
            #expect(decide?["dueOn"]?.string == "2025-04-14")
            #expect(decide?["status"]?.string == "breached")
            #expect(decide?["daysOverdue"]?.int == 17)
            let final = opened.array("deadlines").first { $0["rule"]?.string == "R-FINAL-20W" }
            #expect(final?["status"]?.string == "open")
            #expect(final?["daysRemaining"]?.int == 81)

            let decided = try await client.log(caseId, "DecidedToAssess", on: "2025-04-10")
            #expect(decided.status == 201)
            #expect(decided.headers[.eTag] == "\"2\"")
            let advice = try await client.log(caseId, "AdviceRequested", on: "2025-04-11", data: #"{"adviceId":"ed-1","adviceType":"educational"}"#)
            #expect(advice.status == 201)
            let afterDecision = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            #expect(afterDecision.string("stage") == "assessment")
            #expect(afterDecision.array("deadlines").first { $0["rule"]?.string == "R-DECIDE-6W" }?["status"]?.string == "met")

            // The decision was really made on the 9th: correct it, then retract the advice request.
            let corrected = try await client.send(
                .post, "/v1/cases/\(caseId)/events/2/correction", as: "Ann", json: #"{"occurredOn":"2025-04-09","reason":"typo"}"#)
            #expect(corrected.status == 201)
            let retracted = try await client.send(
                .post, "/v1/cases/\(caseId)/events/3/retraction", as: "Ann", json: #"{"reason":"logged on the wrong case"}"#)
            #expect(retracted.status == 201)
            let timeline = try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Ann")
            let events = timeline.array("events")
            #expect(
                events.map { $0["type"]?.string } == ["RequestReceived", "DecidedToAssess", "AdviceRequested", "EventCorrected", "EventRetracted"])
            #expect(events[1]["correctedBy"] == .array([.number(4)]))
            #expect(events[1]["effective"]?.objectValue?["occurredOn"]?.string == "2025-04-09")
            #expect(events[2]["retractedBy"]?.int == 5)
            #expect(events[3]["targets"]?.int == 2)
            #expect(events.allSatisfy { $0["actor"]?.string == "Ann" && $0["recordedAt"]?.string != nil })
            let final2 = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            #expect(final2.string("decidedOn") == "2025-04-09")
            #expect(!final2.array("deadlines").contains { $0["rule"]?.string == "R-ADVICE-6W" })
        }
    }

    @Test("a rejected event is a problem naming rule, field and value, and writes nothing")
    func rejections() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            // A response to a consultation that was never sent.
            let impossible = try await client.log(
                caseId, "ConsultationResponseReceived", on: "2025-04-01", data: #"{"consultationId":"c-9","response":"agreed"}"#)
            #expect(impossible.status == 422)
            #expect(impossible.headers[.contentType] == "application/problem+json")
            #expect(impossible.string("code") == "unknownReference" && impossible.string("rule") == "R-CONSULT-15D")
            #expect(impossible.string("field") == "data.consultationId" && impossible.string("value") == "c-9")
            let unknownType = try await client.log(caseId, "PlanMagicked", on: "2025-04-01")
            #expect(unknownType.status == 422)
            #expect(unknownType.string("field") == "type" && unknownType.string("value") == "PlanMagicked")
            let malformed = try await client.log(caseId, "DecidedToAssess", on: "2025-02-30")
            #expect(malformed.status == 400)
            #expect(malformed.string("field") == "occurredOn" && malformed.string("value") == "2025-02-30")
            let future = try await client.log(caseId, "DecidedToAssess", on: "2025-05-02")
            #expect(future.status == 422)
            #expect(future.string("code") == "futureDate")
            let early = try await client.log(caseId, "DecidedToAssess", on: "2025-03-02")
            #expect(early.status == 422)
            #expect(early.string("code") == "beforeCaseOpened")
            let unknownDataField = try await client.log(
                caseId, "AdviceRequested", on: "2025-04-01", data: #"{"adviceId":"a","adviceType":"health","colour":"red"}"#)
            #expect(unknownDataField.status == 422)
            #expect(unknownDataField.string("field") == "data.colour")
            let unknownEnvelopeField = try await client.send(
                .post, "/v1/cases/\(caseId)/events", as: "Ann", json: #"{"type":"DecidedToAssess","occurredOn":"2025-04-01","note":"x"}"#)
            #expect(unknownEnvelopeField.status == 422)
            #expect(unknownEnvelopeField.string("field") == "note")
            let badAdviceType = try await client.log(caseId, "AdviceRequested", on: "2025-04-01", data: #"{"adviceId":"a","adviceType":"astrology"}"#)
            #expect(badAdviceType.status == 422)
            #expect(badAdviceType.string("field")?.contains("adviceType") == true)
            let afterAll = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            #expect(afterAll.headers[.eTag] == "\"1\"")
            let missing = try await client.send(.get, "/v1/cases/\(UUID().uuidString)", as: "Ann")
            #expect(missing.status == 404)
            let notAnId = try await client.send(.get, "/v1/cases/42", as: "Ann")
            #expect(notAnId.status == 400 && notAnId.string("field") == "caseId")
            let onMissing = try await client.log(UUID().uuidString, "DecidedToAssess", on: "2025-04-01")
            #expect(onMissing.status == 404)
            let opening = try await client.send(
                .post, "/v1/cases", as: "Ann",
                json: #"{"event":{"type":"DecidedToAssess","occurredOn":"2025-04-01"},"child":{"forename":"A","surname":"B","bornOn":"2015-01-01"}}"#)
            #expect(opening.status == 422 && opening.string("field") == "event.type")
            let noChild = try await client.send(
                .post, "/v1/cases", as: "Ann",
                json: #"{"event":{"type":"RequestReceived","occurredOn":"2025-04-01","data":{"requestSource":"parent"}}}"#)
            #expect(noChild.status == 400 && noChild.string("field") == "child")
            _ = try await client.openCase(reference: "EHC-DUP")
            let duplicate = try await client.send(
                .post, "/v1/cases", as: "Ann",
                json:
                    #"{"event":{"type":"RequestReceived","occurredOn":"2025-04-01","data":{"requestSource":"parent"}},"child":{"forename":"A","surname":"B","bornOn":"2015-01-01"},"reference":"EHC-DUP"}"#
            )
            #expect(duplicate.status == 409 && duplicate.string("field") == "reference")
        }
    }

    @Test("bodies over the size, depth or length limits, and non-JSON bodies, get 4xx, never 500")
    func inputLimits() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            let huge = #"{"type":"DecidedToAssess","occurredOn":"2025-04-01","data":{"x":""# + String(repeating: "a", count: 70_000) + #""}}"#
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: huge).status == 413)
            let deep =
                #"{"type":"DecidedToAssess","occurredOn":"2025-04-01","data":"# + String(repeating: #"{"a":"#, count: 20) + "1"
                + String(repeating: "}", count: 21)
            let deepReply = try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: deep)
            #expect(deepReply.status == 400 && deepReply.string("code") == "jsonTooDeep")
            let long = #"{"type":"DecidedToAssess","occurredOn":"2025-04-01","data":{"x":""# + String(repeating: "a", count: 5_000) + #""}}"#
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: long).string("code") == "jsonTooLong")
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: "{not json").status == 400)
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: "[1,2]").status == 400)
            let repeated = try await client.send(
                .post, "/v1/cases/\(caseId)/events", as: "Ann",
                json: #"{"type":"DecidedToAssess","occurredOn":"2025-04-01","occurredOn":"2025-04-02"}"#)
            #expect(repeated.status == 400 && repeated.string("code") == "malformedJSON")
            let typed = try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: "{}", headers: ["Content-Type": "text/plain"])
            #expect(typed.status == 415)
            #expect(try await client.send(.get, "/v1/cases?limit=100000", as: "Ann").status == 400)
            #expect(try await client.send(.get, "/v1/cases?colour=red", as: "Ann").status == 400)
            #expect(try await client.send(.get, "/v1/cases?q=a%00b", as: "Ann").status == 400)
            let nul = try await client.send(
                .post, "/v1/cases/\(caseId)/events", as: "Ann",
                json: #"{"type":"RequestWithdrawn","occurredOn":"2025-04-01","data":{"reason":"a\u0000b"}}"#)
            #expect(nul.status == 400 && nul.string("field") == "body")
            #expect(try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann").headers[.eTag] == "\"1\"")
        }
    }
}
