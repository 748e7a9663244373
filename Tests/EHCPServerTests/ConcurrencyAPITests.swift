import EHCPDomain
import Foundation
import Testing

@Suite("Case API: If-Match, Idempotency-Key and racing writers")
struct ConcurrencyAPITests {
    @Test("a stale If-Match gets 412 and writes nothing; the current one succeeds")
    func ifMatch() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            #expect(
                try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg").status
                    == 201)
            let stale = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", headers: ["If-Match": "\"1\""])
            #expect(stale.status == 412)
            #expect(stale["currentVersion"]?.int == 2)
            let current = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", headers: ["If-Match": "\"2\""])
            #expect(current.status == 201 && current.headers[.eTag] == "\"3\"")
            #expect(try await client.log(caseId, "MediationRequested", on: "2025-04-02", headers: ["If-Match": "seven"]).status == 400)
        }
    }

    @Test("an Idempotency-Key replay returns the first response and writes once; a different body gets 422")
    func idempotency() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            let first = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", headers: ["Idempotency-Key": "k-1"])
            let again = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", headers: ["Idempotency-Key": "k-1"])
            #expect(first.status == 201 && again.status == 201)
            #expect(first.text == again.text)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            let different = try await client.log(caseId, "DecidedToAssess", on: "2025-04-02", headers: ["Idempotency-Key": "k-1"])
            #expect(different.status == 422 && different.string("code") == "idempotencyKeyReused")
            #expect(try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Ann").array("events").count == 2)

            // Opening a case is idempotent too: one case, one child.
            let body =
                #"{"event":{"type":"RequestReceived","occurredOn":"2025-04-01","data":{"requestSource":"school"}},"child":{"forename":"Idem","surname":"Potent","bornOn":"2016-01-01"}}"#
            let open1 = try await client.send(.post, "/v1/cases", as: "Ann", json: body, headers: ["Idempotency-Key": "open-1"])
            let open2 = try await client.send(.post, "/v1/cases", as: "Ann", json: body, headers: ["Idempotency-Key": "open-1"])
            #expect(open1.status == 201 && open1.text == open2.text)
            #expect(try await client.send(.get, "/v1/cases?q=Potent", as: "Ann").array("cases").count == 1)
        }
    }

    @Test("concurrent openings and concurrent events with one Idempotency-Key: one write, and every other request gets its replay")
    func concurrentReplays() async throws {
        try await APIHarness().run { client in
            let body =
                #"{"event":{"type":"RequestReceived","occurredOn":"2025-04-01","data":{"requestSource":"school"}},"child":{"forename":"Rac","surname":"Ingtwins","bornOn":"2016-01-01"}}"#
            let openings = try await withThrowingTaskGroup(of: Client.Reply.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await client.send(.post, "/v1/cases", as: "Ann", json: body, headers: ["Idempotency-Key": "race-open"]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(openings.map(\.status) == Array(repeating: 201, count: 6))
            #expect(Set(openings.map(\.text)).count == 1)
            #expect(openings.filter { $0.headers[.init("Idempotent-Replayed")!] == "true" }.count == 5)
            #expect(try await client.send(.get, "/v1/cases?q=Ingtwins", as: "Ann").array("cases").count == 1)

            let caseId = try #require(openings.first?.string("caseId")).lowercased()
            let events = try await withThrowingTaskGroup(of: Client.Reply.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await client.log(caseId, "DecidedToAssess", on: "2025-04-10", headers: ["Idempotency-Key": "race-event"]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(events.map(\.status) == Array(repeating: 201, count: 6))
            #expect(Set(events.map(\.text)).count == 1)
            #expect(try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Ann").array("events").count == 2)
        }
    }

    @Test("an Idempotency-Key belongs to one route and one user: reused on another route, or by another user, it is refused")
    func keyBoundToRouteAndUser() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            #expect(try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", headers: ["Idempotency-Key": "k-route"]).status == 201)
            // The same key on a write that records no case event.
            let hook = #"{"url":"https://receiver.example/hook","secret":"0123456789abcdef0123"}"#
            let elsewhere = try await client.send(.post, "/v1/webhooks", as: "Ada", json: hook, headers: ["Idempotency-Key": "k-route"])
            #expect(elsewhere.status == 422 && elsewhere.string("code") == "idempotencyKeyReused")
            #expect(try await client.send(.get, "/v1/webhooks", as: "Ada").array("subscriptions").isEmpty)
            // … and the other way round.
            #expect(try await client.send(.post, "/v1/webhooks", as: "Ada", json: hook, headers: ["Idempotency-Key": "k-hook"]).status == 201)
            let back = try await client.log(caseId, "MediationRequested", on: "2025-04-02", headers: ["Idempotency-Key": "k-hook"])
            #expect(back.status == 422 && back.string("code") == "idempotencyKeyReused")
            // Another user sending the very same request with the same key does not get the first user's response.
            let byBen = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", as: "Ben", headers: ["Idempotency-Key": "k-route"])
            #expect(byBen.status == 422 && byBen.string("code") == "idempotencyKeyReused")
        }
    }

    @Test("without If-Match, writers racing on one case all land, with no gaps in the versions")
    func racingWriters() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            _ = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01")
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<12 {
                    group.addTask {
                        try await client.log(caseId, "AdviceRequested", on: "2025-04-02", data: #"{"adviceId":"a\#(n)","adviceType":"educational"}"#)
                            .status
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses == Array(repeating: 201, count: 12))
            let versions = try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Ann").array("events").compactMap { $0["version"]?.int }
            #expect(versions == Array(1...14))
        }
    }
}
