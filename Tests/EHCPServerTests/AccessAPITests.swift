import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Testing

@Suite("API access: authentication, roles, council isolation")
struct AccessAPITests {
    @Test("no token, a malformed token, an unknown, revoked or expired token: 401 with WWW-Authenticate")
    func authentication() async throws {
        let harness = try APIHarness()
        let owner = try harness.database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        let ann = try directory.userId(name: "Ann", council: harness.councilA, on: owner)
        let revoked = try directory.createToken(userId: ann, label: "old", validFor: 1, on: owner)
        try directory.revoke(token: revoked, on: owner)
        let expired = try directory.createToken(userId: ann, label: "expired", validFor: 0, on: owner)
        try await harness.run { client in
            for token in [nil, "nonsense", "ehcp_" + String(repeating: "0", count: 64), revoked, expired] {
                let reply = try await client.send(.get, "/v1/cases", as: token)
                #expect(reply.status == 401)
                #expect(reply.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)
            }
            #expect(try await client.send(.get, "/v1/me", as: "Ann").string("role") == "caseworker")
            // Public operational routes need no token.
            #expect(try await client.send(.get, "/healthz", as: nil).status == 200)
            #expect(try await client.send(.get, "/readyz", as: nil).status == 200)
            #expect(try await client.send(.get, "/v1/openapi.json", as: nil).status == 200)
        }
    }

    @Test("each role may do what architecture.md gives it and gets 403 otherwise")
    func roles() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase()
            // Auditors read everything and write nothing.
            #expect(try await client.send(.get, "/v1/cases/\(caseId)", as: "Aud").status == 200)
            #expect(try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", as: "Aud").status == 403)
            let auditorOpen = try await client.send(.post, "/v1/cases", as: "Aud", json: "{}")
            #expect(auditorOpen.status == 403 && auditorOpen.string("code") == "forbidden")
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events/1/retraction", as: "Aud", json: #"{"reason":"x"}"#).status == 403)
            // Assignment is for managers and admins.
            let assign = #"{"caseworker":"Ben","team":"North"}"#
            #expect(try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: assign, as: "Ann").status == 403)
            #expect(try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: assign, as: "Meg").status == 201)
            // Nobody logs the scheduler's events by hand.
            let breach = try await client.log(
                caseId, "DeadlineBreached", on: "2025-04-15", data: #"{"rule":"R-DECIDE-6W","dueOn":"2025-04-14"}"#, as: "Ada")
            #expect(breach.status == 403 && breach.string("field") == "type")
            // Subject access is for managers, admins and auditors; erasure for admins; the access log for auditors and admins.
            let childId = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")["child"]?.objectValue?["childId"]?.string ?? ""
            #expect(try await client.send(.get, "/v1/children/\(childId)/export", as: "Ann").status == 403)
            #expect(try await client.send(.get, "/v1/children/\(childId)/export", as: "Aud").status == 200)
            #expect(try await client.send(.post, "/v1/children/\(childId)/erasure", as: "Meg", json: #"{"reason":"retention"}"#).status == 403)
            #expect(try await client.send(.get, "/v1/access-log", as: "Ann").status == 403)
            #expect(try await client.send(.get, "/v1/access-log", as: "Aud").status == 200)
        }
    }

    @Test("council B's token cannot read or write council A's cases by any route, even knowing the ids")
    func councilIsolation() async throws {
        let harness = try APIHarness()
        try await harness.run { client in
            let caseId = try await client.openCase(forename: "Secret", surname: "Child")
            let childId = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")["child"]?.objectValue?["childId"]?.string ?? ""
            #expect(try await client.send(.get, "/v1/cases/\(caseId)", as: "Bob").status == 404)
            #expect(try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Bob").status == 404)
            let write = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01", as: "Bob")
            // A write says what a read says: no such case id in your council (nothing about the other council).
            #expect(write.status == 404 && write.string("field") == "caseId")
            #expect(write.string("detail") == (try await client.send(.get, "/v1/cases/\(caseId)", as: "Bob")).string("detail"))
            #expect(
                try await client.send(.post, "/v1/cases/\(caseId)/events/1/correction", as: "Bob", json: #"{"reason":"x","occurredOn":"2025-03-04"}"#)
                    .status == 404)
            #expect(try await client.send(.post, "/v1/cases/\(caseId)/events/1/retraction", as: "Bob", json: #"{"reason":"x"}"#).status == 404)
            #expect(try await client.send(.get, "/v1/cases?q=Secret", as: "Bob").array("cases").isEmpty)
            #expect(try await client.send(.get, "/v1/cases", as: "Bob").array("cases").isEmpty)
            #expect(try await client.send(.get, "/v1/work-tray?days=400", as: "Bob").array("breached").isEmpty)
            #expect(try await client.send(.get, "/v1/children/\(childId)/export", as: "Bob").status == 403)
            #expect(try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann").headers[.eTag] == "\"1\"")
            #expect(try await client.send(.get, "/v1/cases?q=Secret", as: "Ann").array("cases").count == 1)
        }
        // The same database, read as the application role with no council set, shows nothing at all.
        let pool = try harness.database.pool(size: 1)
        defer { pool.shutdown() }
        let counts = try await pool.withConnection { connection in
            try ["case_summary", "events", "children", "deadlines", "access_log"].map {
                try connection.query("SELECT count(*) FROM \($0)").first!.decode(Int.self, at: 0)
            }
        }
        #expect(counts == [0, 0, 0, 0, 0])
    }
}
