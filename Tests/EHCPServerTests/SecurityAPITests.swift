import EHCPDomain
import EHCPStore
import Foundation
import Testing

/// Requests that once stopped the whole server, or let a role do what it may not (docs/security.md).
@Suite("Security: no request crashes the server; changes obey the rules of what they change")
struct SecurityAPITests {
    @Test(
        "numbers no integer holds, where a payload wants something else, are refused naming the field, for every route that decodes an event",
        arguments: [
            #"{"type":"RequestReceived","occurredOn":"2025-01-01","data":{"requestSource":1e19}}"#,
            #"{"type":"PlanCeased","occurredOn":"2025-01-01","data":{"reason":1e19}}"#,
            #"{"type":"ExceptionRecorded","occurredOn":"2025-01-01","data":{"exceptionId":"e","ground":"absence","rules":[1e19]}}"#,
            #"{"type":"RequestReceived","occurredOn":"2025-01-01","data":{"requestSource":-1e300}}"#,
        ])
    func hugeNumbers(body: String) async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            // An auditor is refused before the body is read at all.
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Aud", json: body).status == 403)
            let refused = try await client.send(.post, "/v1/cases/\(caseId)/events", as: "Ann", json: body)
            #expect(refused.status == 422)
            #expect(refused.string("field")?.hasPrefix("data.") == true)
            let corrected = try await client.send(
                .post, "/v1/cases/\(caseId)/events/1/correction", as: "Ann", json: #"{"reason":"x","data":{"requestSource":1e19}}"#)
            #expect(corrected.status == 422 && corrected.string("field") == "data.requestSource")
            // The server is still there, and nothing was written.
            #expect(try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann").headers[.eTag] == "\"1\"")
        }
    }

    @Test("years outside 1900 to 2100 are refused at the edge naming the field, in the envelope, the data, the child and a report's dates")
    func yearsOutOfRange() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            let envelope = try await client.log(caseId, "DecidedToAssess", on: "0000-01-01")
            #expect(envelope.status == 400 && envelope.string("code") == "malformedDate" && envelope.string("field") == "occurredOn")
            let data = try await client.log(
                caseId, "ExceptionRecorded", on: "2025-03-10",
                data:
                    #"{"exceptionId":"e","ground":"personalCircumstances","rules":["R-FINAL-20W"],"from":"2025-03-01","to":"2999-01-01","reason":"x"}"#
            )
            #expect(data.status == 422 && data.string("field") == "data.to" && data.string("value") == "2999-01-01")
            let child = try await client.send(
                .post, "/v1/cases", as: "Ann",
                json:
                    #"{"event":{"type":"RequestReceived","occurredOn":"2025-03-03","data":{"requestSource":"parent"}},"child":{"forename":"A","surname":"B","bornOn":"0000-01-01"}}"#
            )
            #expect(child.status == 400 && child.string("field") == "child.bornOn")
            let report = try await client.send(.get, "/v1/reports/breaches?asOf=0000-01-01", as: "Meg")
            #expect(report.status == 400 && report.string("field") == "asOf")
        }
    }

    @Test("a caseworker cannot correct or retract an assignment, which only a manager may make; a manager can")
    func assignmentsNeedAManager() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            #expect(
                try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg").status
                    == 201)
            let correction = #"{"data":{"caseworker":"Ben","team":"North"},"reason":"I want it"}"#
            let byCaseworker = try await client.send(.post, "/v1/cases/\(caseId)/events/2/correction", as: "Ann", json: correction)
            #expect(byCaseworker.status == 403 && byCaseworker.string("code") == "forbidden" && byCaseworker.string("field") == "data.targetVersion")
            let retraction = try await client.send(.post, "/v1/cases/\(caseId)/events/2/retraction", as: "Ann", json: #"{"reason":"x"}"#)
            #expect(retraction.status == 403)
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events/2/correction", as: "Meg", json: correction).status == 201)
        }
    }

    @Test("nobody corrects or retracts the scheduler's breach, so it is never raised and alerted twice")
    func schedulerRecordsAreFixed() async throws {
        let harness = try APIHarness()
        try await harness.run { client in
            let caseId = try await client.openCase()
            let breach = LogEvent(
                .deadlineBreached(DeadlineBreached(rule: .decide6W, dueOn: CivilDate(iso: "2025-04-14")!)), on: CivilDate(iso: "2025-04-15")!,
                by: "system", today: APIHarness.today)
            _ = try await harness.deps.repository.record(
                CaseCommand(council: harness.councilA, caseId: UUID(uuidString: caseId)!, command: breach), pool: harness.pool)
            for user in ["Ann", "Meg", "Ada"] {
                let retracted = try await client.send(.post, "/v1/cases/\(caseId)/events/2/retraction", as: user, json: #"{"reason":"spam"}"#)
                #expect(retracted.status == 403 && retracted.string("code") == "forbidden")
                let corrected = try await client.send(
                    .post, "/v1/cases/\(caseId)/events/2/correction", as: user, json: #"{"occurredOn":"2025-04-20","reason":"x"}"#)
                #expect(corrected.status == 403)
            }
        }
    }

    @Test("an auditor cannot mark an alert read: auditors write nothing")
    func auditorsWriteNothing() async throws {
        try await APIHarness().run { client in
            let reply = try await client.send(.post, "/v1/alerts/1/read", as: "Aud")
            #expect(reply.status == 403)
        }
    }

    @Test("a case reference must match the council's pattern, so a child's name cannot be typed into one, and is not echoed back")
    func referencePattern() async throws {
        try await APIHarness().run { client in
            for reference in ["Jo Bloggs", "EHC 1", String(repeating: "A", count: 41), "=HYPERLINK(1)"] {
                let reply = try await client.send(
                    .post, "/v1/cases", as: "Ann",
                    json:
                        #"{"event":{"type":"RequestReceived","occurredOn":"2025-03-03","data":{"requestSource":"parent"}},"child":{"forename":"A","surname":"B","bornOn":"2015-01-01"},"reference":"\#(reference)"}"#
                )
                #expect(reply.status == 400 && reply.string("field") == "reference" && reply.string("value") == nil)
            }
            #expect(try await client.openCase(reference: "EHC-2025/001").isEmpty == false)
        }
    }

    @Test("a page of the case list and a SEN2 export log one entry per child; the server's request id is kept, the client's beside it")
    func bulkReadsAreLogged() async throws {
        try await APIHarness().run { client in
            for surname in ["Ames", "Baker", "Cole"] { _ = try await client.openCase(surname: surname) }
            let page = try await client.send(.get, "/v1/cases?q=a&limit=2", as: "Ann", headers: ["X-Request-Id": "client-chosen-1"])
            #expect(page.status == 200)
            let listed = page.array("cases").count
            #expect(listed == 2)
            #expect(try await client.send(.get, "/v1/exports/sen2?year=2025", as: "Meg").status == 200)
            let log = try await client.send(.get, "/v1/access-log?limit=100", as: "Aud").array("entries")
            let lists = log.filter { $0["action"]?.string == "listCases" }
            #expect(lists.count == listed)
            #expect(lists.allSatisfy { $0["clientRequestId"]?.string == "client-chosen-1" && $0["requestId"]?.string != "client-chosen-1" })
            #expect(lists.allSatisfy { $0["childId"]?.string != nil && $0["caseId"]?.string != nil })
            #expect(log.filter { $0["action"]?.string == "exportSEN2" }.count == 3)
        }
    }
}
