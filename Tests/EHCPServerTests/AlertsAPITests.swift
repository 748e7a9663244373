import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Testing

@Suite("API alerts: the in-app feed, webhook subscriptions, the dead letter")
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
            #expect(try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"ftp://x","secret":"0123456789abcdef"}"#).string("field") == "url")
            #expect(try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"https://x.org","secret":"short"}"#).string("field") == "secret")
            #expect(try await client.send(.post, "/v1/webhooks", as: "Ada", json: #"{"url":"https://x.org","secret":"0123456789abcdef","kinds":["gossip"]}"#).string("field") == "kinds")
            #expect(try await client.send(.get, "/v1/webhooks", as: "Bob").status == 403)
            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", as: "Ada").status == 204)
            #expect(try await client.send(.delete, "/v1/webhooks/\(id)", as: "Ada").status == 404)
            #expect(try await client.send(.get, "/v1/webhooks/dead-letter", as: "Aud").array("deliveries").isEmpty)
            #expect(try await client.send(.get, "/v1/webhooks/dead-letter", as: "Ann").status == 403)
            #expect(try await client.send(.post, "/v1/webhooks/dead-letter/\(UUID().uuidString)/redrive", as: "Ada").status == 404)
        }
    }
}
