import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Testing

@Suite("API alerts: the in-app feed, email choices, webhook subscriptions, the dead letters")
struct AlertsAPITests {
    @Test("a user sees only their own alerts and can mark them read")
    func feed() async throws {
        let harness = try APIHarness()
        let owner = try harness.database.connect()
        defer { owner.close() }
        let caseId = UUID()
        try owner.query("INSERT INTO case_streams (case_id, council_id, version) VALUES ($1, $2, 1)", [caseId, harness.councilA])
        for (recipient, kind) in [("Ann", "breach"), ("Ann", "reminder"), ("Ben", "breach")] {
            try owner.query(
                """
                INSERT INTO alerts (council_id, case_id, event_version, kind, reference, rule, due_on, recipient, recipient_role)
                VALUES ($1, $2, $3, $4, 'EHC-1', 'R-DECIDE-6W', '2025-04-14', $5, 'caseworker')
                """, [harness.councilA, caseId, Int.random(in: 1...1_000_000), kind, recipient])
        }
        try await harness.run { client in
            let mine = try await client.send(.get, "/v1/alerts", as: "Ann").array("alerts")
            #expect(mine.count == 2)
            let first = mine[0]["alertId"]?.int ?? 0
            #expect(try await client.send(.post, "/v1/alerts/\(first)/read", as: "Ann").status == 204)
            #expect(try await client.send(.get, "/v1/alerts?unread=true", as: "Ann").array("alerts").count == 1)
            #expect(try await client.send(.get, "/v1/alerts", as: "Ben").array("alerts").count == 1)
            #expect(try await client.send(.post, "/v1/alerts/\(first)/read", as: "Ben").status == 404)  // not Ben's
            #expect(try await client.send(.get, "/v1/alerts", as: "Bob").array("alerts").isEmpty)  // another council
        }
    }

    @Test("admins manage webhook subscriptions; bad URLs, short secrets and unknown kinds are refused; secrets are never shown")
    func webhooks() async throws {
        try await APIHarness().run { client in
            let body = #"{"url":"https://hooks.example.org/ehcp","secret":"0123456789abcdef-secret","kinds":["breach"]}"#
            #expect(try await client.send(.post, "/v1/webhooks", as: "Meg", json: body).status == 403)
            let created = try await client.send(.post, "/v1/webhooks", as: "Ada", json: body)
            #expect(created.status == 201)
            let id = created.string("subscriptionId")?.lowercased() ?? ""
            let list = try await client.send(.get, "/v1/webhooks", as: "Ada")
            #expect(list.array("subscriptions").count == 1 && !list.text.contains("secret"))
            #expect(
                try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"ftp://x","secret":"0123456789abcdef"}"#).string("field")
                    == "url")
            // Alerts name children's cases: plain http only to a receiver on this machine.
            #expect(
                try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"http://hooks.example.org/ehcp","secret":"0123456789abcdef"}"#)
                    .string("field") == "url")
            let local = try await client.send(
                .post, "/v1/webhooks", as: "Ada", json: #"{"url":"http://127.0.0.1:9000/hook","secret":"0123456789abcdef"}"#)
            #expect(local.status == 201)
            #expect(try await client.send(.delete, "/v1/webhooks/\(local.string("subscriptionId")?.lowercased() ?? "")", as: "Ada").status == 204)
            #expect(
                try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"https://x.org","secret":"short"}"#).string("field")
                    == "secret")
            #expect(
                try await client.send(
                    .post, "/v1/webhooks", as: "Ada", json: #"{"url":"https://x.org","secret":"0123456789abcdef","kinds":["gossip"]}"#
                ).string("field") == "kinds")
            #expect(try await client.send(.get, "/v1/webhooks", as: "Bob").status == 403)
            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", as: "Ada").status == 204)
            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", as: "Ada").status == 404)
            #expect(try await client.send(.get, "/v1/webhooks/dead-letter", as: "Aud").array("deliveries").isEmpty)
            #expect(try await client.send(.get, "/v1/webhooks/dead-letter", as: "Ann").status == 403)
            #expect(try await client.send(.post, "/v1/webhooks/dead-letter/\(UUID().uuidString)/redrive", as: "Ada").status == 404)
        }
    }

    @Test("Idempotency-Key on POSTs that record no case event: a replay returns the first response and subscribes once")
    func idempotentSubscription() async throws {
        try await APIHarness().run { client in
            let body = #"{"url":"https://hooks.example.org/ehcp","secret":"0123456789abcdef-secret"}"#
            let key = ["Idempotency-Key": "subscribe-1"]
            let first = try await client.send(.post, "/v1/webhooks", as: "Ada", json: body, headers: key)
            let again = try await client.send(.post, "/v1/webhooks", as: "Ada", json: body, headers: key)
            #expect(first.status == 201 && again.status == 201)
            #expect(again.text == first.text && again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(first.headers[.init("Idempotent-Replayed")!] == nil)
            #expect(try await client.send(.get, "/v1/webhooks", as: "Ada").array("subscriptions").count == 1)
            // The same key with another body, or on another route, is another request: 422, nothing written.
            let other = try await client.send(
                .post, "/v1/webhooks", as: "Ada", json: body.replacingOccurrences(of: "ehcp", with: "other"), headers: key)
            #expect(other.status == 422 && other.string("code") == "idempotencyKeyReused")
            #expect(try await client.send(.post, "/v1/alerts/1/read", as: "Ada", headers: key).status == 422)
            #expect(try await client.send(.get, "/v1/webhooks", as: "Ada").array("subscriptions").count == 1)
            // A key already used for a case event is used; a refused request keeps no response, so it may be retried.
            let caseId = try await client.openCase()
            _ = try await client.log(caseId, "DecidedToAssess", on: "2025-03-20", headers: ["Idempotency-Key": "case-1"])
            #expect(try await client.send(.post, "/v1/webhooks", as: "Ada", json: body, headers: ["Idempotency-Key": "case-1"]).status == 422)
            #expect(
                try await client.send(.post, "/v1/webhooks/dead-letter/\(UUID().uuidString)/redrive", as: "Ada", headers: ["Idempotency-Key": "r-1"])
                    .status == 404)
            let retried = try await client.send(
                .post, "/v1/webhooks", as: "Ada", json: body.replacingOccurrences(of: "ehcp", with: "second"), headers: ["Idempotency-Key": "r-1"])
            #expect(retried.status == 201)
            // Racing requests with one key: one subscription, the same answer for all.
            let raced = try await withThrowingTaskGroup(of: Client.Reply.self) { group in
                for _ in 0..<6 {
                    group.addTask { try await client.send(.post, "/v1/webhooks", as: "Ada", json: body, headers: ["Idempotency-Key": "race"]) }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(Set(raced.map(\.status)) == [201] && Set(raced.map(\.text)).count == 1)
            #expect(try await client.send(.get, "/v1/webhooks", as: "Ada").array("subscriptions").count == 3)
        }
    }

    @Test("a user reads their own email address and choices, and changes the choices; bad values are refused by field; auditors write nothing")
    func emailChoices() async throws {
        let harness = try APIHarness()
        let owner = try harness.database.connect()
        defer { owner.close() }
        try UserDirectory().setEmail(
            userId: try UserDirectory().userId(name: "Ann", council: harness.councilA, on: owner), address: "ann@council.example", on: owner)
        try await harness.run { client in
            let me = try await client.send(.get, "/v1/me", as: "Ann")
            let email = try #require(me["email"]?.objectValue)
            #expect(email["address"] == .string("ann@council.example"))
            #expect(email["onBreach"] == .bool(true) && email["onReminder"] == .bool(false) && email["dailyDigest"] == .bool(true))
            #expect(try await client.send(.get, "/v1/me", as: "Ben")["email"]?.objectValue?["address"] == nil)
            let choose = #"{"onBreach": false, "onReminder": true, "dailyDigest": false}"#
            #expect(try await client.send(.put, "/v1/me/email-choices", as: "Ann", json: choose).status == 204)
            let after = try #require(try await client.send(.get, "/v1/me", as: "Ann")["email"]?.objectValue)
            #expect(after["onBreach"] == .bool(false) && after["onReminder"] == .bool(true) && after["dailyDigest"] == .bool(false))
            // Only their own: Ben's are untouched.
            #expect(try await client.send(.get, "/v1/me", as: "Ben")["email"]?.objectValue?["onBreach"] == .bool(true))
            let missing = try await client.send(
                .put, "/v1/me/email-choices", as: "Ann", json: #"{"onBreach": true, "onReminder": "yes", "dailyDigest": true}"#)
            #expect(missing.status == 400 && missing.string("field") == "onReminder")
            let unknown = try await client.send(
                .put, "/v1/me/email-choices", as: "Ann", json: #"{"onBreach": true, "onReminder": true, "dailyDigest": true, "address": "x@y.z"}"#)
            #expect(unknown.status == 422 || unknown.status == 400)
            #expect(try await client.send(.get, "/v1/me", as: "Ann")["email"]?.objectValue?["address"] == .string("ann@council.example"))
            #expect(try await client.send(.put, "/v1/me/email-choices", as: "Aud", json: choose).status == 403)
            // The email dead letter: read by managers, administrators and auditors; redriven by administrators.
            #expect(try await client.send(.get, "/v1/email/dead-letter", as: "Aud").array("deliveries").isEmpty)
            #expect(try await client.send(.get, "/v1/email/dead-letter", as: "Ann").status == 403)
            #expect(try await client.send(.post, "/v1/email/dead-letter/\(UUID().uuidString)/redrive", as: "Meg").status == 403)
            #expect(try await client.send(.post, "/v1/email/dead-letter/\(UUID().uuidString)/redrive", as: "Ada").status == 404)
        }
    }
}
