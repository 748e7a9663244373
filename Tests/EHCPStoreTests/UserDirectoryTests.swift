import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Users and bearer tokens")
struct UserDirectoryTests {
    @Test("a new token authenticates as its user; revoked and expired tokens do not; only the hash is stored")
    func tokens() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil(code: "A")
        let owner = try database.connect()
        let directory = UserDirectory()
        let ann = try directory.addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        let token = try directory.createToken(userId: ann, label: "test", validFor: 30, on: owner)
        let expired = try directory.createToken(userId: ann, label: "old", validFor: 0, on: owner)
        #expect(token.hasPrefix("ehcp_") && token.count == 69)
        let stored = try owner.query("SELECT token_hash FROM api_tokens").rows.map { try $0.decode(String.self, at: 0) }
        #expect(!stored.contains(token) && stored.allSatisfy { $0.count == 64 })

        let pool = try database.pool()  // the application role
        defer { pool.shutdown() }
        let user = try await pool.withConnection { try directory.authenticate(token: token, on: $0) }
        #expect(user == AuthenticatedUser(userId: ann, councilId: council, name: "Ann", role: .caseworker, team: "North"))
        #expect(try await pool.withConnection { try directory.authenticate(token: expired, on: $0) } == nil)
        #expect(try await pool.withConnection { try directory.authenticate(token: token + "x", on: $0) } == nil)
        // The application role cannot read tokens directly.
        await #expect(throws: PostgresError.self) { try await pool.withConnection { try $0.query("SELECT * FROM api_tokens") } }

        try directory.revoke(token: token, on: owner)
        #expect(try await pool.withConnection { try directory.authenticate(token: token, on: $0) } == nil)
        #expect(throws: UserDirectory.Failure.self) { try directory.revoke(token: token, on: owner) }
    }
}
