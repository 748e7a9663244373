import EHCPAPI
import EHCPDomain
import Foundation
import HTTPTypes
import Testing

/// What an API fuzzer fed the OpenAPI document checks: nothing it sends gets a 500, a method the
/// document does not list gets 405 with `Allow`, and the server refuses exactly what the document forbids.
@Suite("The API keeps to its OpenAPI document")
struct ContractAPITests {
    @Test("an unknown path is a 404 problem and an unlisted method a 405 with Allow, never a 500")
    func unmatchedRequests() async throws {
        try await APIHarness().run { client in
            let nowhere = try await client.send(.get, "/v1/nowhere", as: "Ann")
            #expect(nowhere.status == 404 && nowhere.string("code") == "routeNotFound")
            #expect(nowhere.headers[.contentType] == "application/problem+json")

            let trace = try await client.send(.init("TRACE")!, "/healthz", as: nil)
            #expect(trace.status == 405 && trace.headers[.allow] == "GET" && trace.string("code") == "methodNotAllowed")
            let delete = try await client.send(.delete, "/v1/cases/\(UUID().uuidString.lowercased())", as: "Ann")
            #expect(delete.status == 405 && delete.headers[.allow] == "GET")
            // A literal segment wins over a parameter, as in the router: dead-letter is not a subscription id.
            let options = try await client.send(.options, "/v1/webhooks/dead-letter", as: "Ann")
            #expect(options.status == 405 && options.headers[.allow] == "GET")
            let subscription = try await client.send(.get, "/v1/webhooks/\(UUID().uuidString.lowercased())", as: "Ann")
            #expect(subscription.status == 405 && subscription.headers[.allow] == "DELETE")

            let ready = try await client.send(.get, "/readyz", as: nil)
            #expect(ready.status == 200 && ready.headers[.contentType]?.hasPrefix("text/plain") == true)
        }
    }

    @Test("query parameters outside their documented enum, length or range are refused by name")
    func queryParameters() async throws {
        try await APIHarness().run { client in
            let stage = try await client.send(.get, "/v1/cases?stage=AAA", as: "Ann")
            #expect(stage.status == 400 && stage.string("field") == "stage" && stage.string("value") == "AAA")
            #expect(try await client.send(.get, "/v1/cases?q=" + String(repeating: "a", count: 101), as: "Ann").status == 400)
            #expect(try await client.send(.get, "/v1/cases?q=" + String(repeating: "a", count: 100), as: "Ann").status == 200)
            // Any cursor of the documented base64url pattern names a place in reference order; others are refused.
            #expect(try await client.send(.get, "/v1/cases?cursor=QUJD", as: "Ann").status == 200)
            #expect(try await client.send(.get, "/v1/cases?cursor=QR", as: "Ann").status == 200)  // unused low bits set
            #expect(try await client.send(.get, "/v1/cases?cursor=QUJDR", as: "Ann").status == 400)
            #expect(try await client.send(.get, "/v1/cases?cursor=QUJD%2B", as: "Ann").status == 400)
            let caseId = try await client.openCase()
            let huge = try await client.send(.post, "/v1/cases/\(caseId)/events/2147483648/retraction", as: "Ann", json: #"{"reason":"x"}"#)
            #expect(huge.status == 400 && huge.string("field") == "version")
            let alert = try await client.send(.post, "/v1/alerts/104579411217376937508864/read", as: "Ann")
            #expect(alert.status == 400 && alert.string("field") == "alertId")
            // The timeliness window defaults around 'to', so an early 'to' alone is a valid request.
            #expect(try await client.send(.get, "/v1/reports/timeliness?to=2019-02-25", as: "Meg").status == 200)
            #expect(try await client.send(.get, "/v1/reports/timeliness?from=2023-04-15&to=2019-02-25", as: "Meg").status == 400)
        }
    }

    @Test("If-Match takes exactly the documented forms: \"7\", W/\"7\", 7 or *")
    func ifMatchForms() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            let assign = #"{"caseworker":"Ann","team":"North"}"#
            for (header, status) in [
                ("\"1\"", 201), ("W/\"2\"", 201), ("3", 201), ("*", 201), ("\"3\"", 412), ("", 400), ("\"5", 400), ("W/", 400), ("1234567890", 400),
            ] {
                let reply = try await client.log(
                    caseId, "CaseworkerAssigned", on: "2025-03-04", data: assign, as: "Meg", headers: ["If-Match": header])
                #expect(reply.status == status, "If-Match: \(header) → \(reply.status) \(reply.text)")
            }
        }
    }
}
