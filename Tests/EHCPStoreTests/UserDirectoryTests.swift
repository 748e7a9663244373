import EHCPDomain
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

    @Test("a token is listed and revoked by its id, never shown again; a short or malformed id revokes nothing")
    func revokeById() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil(code: "A")
        let owner = try database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        let ann = try directory.addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        let (laptop, phone) = (
            try directory.createToken(userId: ann, label: "laptop", validFor: 30, on: owner),
            try directory.createToken(userId: ann, label: "phone", validFor: 30, on: owner)
        )
        let phoneId = try directory.tokenId(of: phone, on: owner)
        #expect(phoneId.count == UserDirectory.tokenIdLength)
        let listed = try directory.tokens(userId: ann, on: owner)
        #expect(Set(listed.map(\.label)) == ["laptop", "phone"] && listed.allSatisfy { $0.state == "live" })
        #expect(listed.contains { $0.id == phoneId } && !listed.contains { phone.contains($0.id) || laptop.contains($0.id) })

        for refused in [String(phoneId.prefix(8)), "zz" + phoneId, ""] {
            #expect(throws: UserDirectory.Failure.self) { try directory.revoke(id: refused, on: owner) }
        }
        #expect(try directory.tokens(userId: ann, on: owner).allSatisfy { $0.state == "live" })
        try directory.revoke(id: phoneId.uppercased(), on: owner)
        #expect(try directory.tokens(userId: ann, on: owner).first { $0.id == phoneId }?.state == "revoked")
        let pool = try database.pool()
        defer { pool.shutdown() }
        #expect(try await pool.withConnection { try directory.authenticate(token: phone, on: $0) } == nil)
        #expect(try await pool.withConnection { try directory.authenticate(token: laptop, on: $0) } != nil)
        #expect(throws: UserDirectory.Failure.self) { try directory.revoke(id: phoneId, on: owner) }  // already revoked
    }

    @Test("a password is kept only as its scrypt hash, verifies only itself, and the service cannot read it")
    func passwords() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil(code: "A")
        let owner = try database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        let ann = try directory.addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        #expect(throws: PasswordHash.Refused.self) { try directory.setPassword(userId: ann, password: "short", on: owner) }
        try await PasswordHash.offPool { try directory.setPassword(userId: ann, password: "correct horse battery", on: owner) }
        let stored = try owner.query("SELECT password_hash FROM users WHERE user_id = $1", [ann]).first!.decode(String.self, at: 0)
        #expect(stored.hasPrefix("scrypt$17$8$1$") && !stored.contains("horse"))
        #expect(try await PasswordHash.offPool { PasswordHash.verify("correct horse battery", against: stored) })
        #expect(try await PasswordHash.offPool { !PasswordHash.verify("correct horse batterY", against: stored) })
        #expect(!PasswordHash.verify("correct horse battery", against: "scrypt$17$8$1$bm90$bm90"))  // malformed: verifies nothing

        let pool = try database.pool()  // the service's login
        defer { pool.shutdown() }
        let names = try await pool.transaction(council: council) { try $0.query("SELECT name FROM users").rows.count }
        #expect(names == 1)
        await #expect(throws: PostgresError.self) {
            try await pool.transaction(council: council) { try $0.query("SELECT password_hash FROM users") }
        }
    }

    @Test("a leaver is disabled: their tokens stop at once, no new one is issued, their open cases are counted; enabling needs a new token")
    func leaver() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil(code: "A")
        let owner = try database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        let ann = try directory.addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        let ben = try directory.addUser(name: "Ben", role: .manager, team: "North", council: council, on: owner)
        let annTokens = try (0..<2).map { _ in try directory.createToken(userId: ann, label: nil, validFor: 30, on: owner) }
        _ = try directory.createToken(userId: ann, label: "expired", validFor: 0, on: owner)
        let benToken = try directory.createToken(userId: ben, label: nil, validFor: 30, on: owner)
        let pool = try database.pool()
        defer { pool.shutdown() }
        func authenticates(_ token: String) async throws -> Bool {
            try await pool.withConnection { try directory.authenticate(token: token, on: $0) } != nil
        }

        // Ann holds two cases, one of them closed.
        let repository = CaseRepository.englandAndWales
        for withdrawn in [false, true] {
            let caseId = UUID()
            let today = CivilDate(iso: "2025-04-01")!
            var events: [(CaseEvent, String)] = [
                (.requestReceived(RequestReceived(requestSource: .school)), "2025-03-03"),
                (.caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")), "2025-03-04"),
            ]
            if withdrawn { events.append((.requestWithdrawn(Reason(reason: "moved")), "2025-03-05")) }
            for (event, day) in events {
                _ = try await repository.record(
                    CaseCommand(council: council, caseId: caseId, command: LogEvent(event, on: CivilDate(iso: day)!, by: "t", today: today)),
                    pool: pool)
            }
        }
        #expect(try directory.openCases(assignedTo: "Ann", council: council, on: owner) == 1)

        #expect(try directory.disable(userId: ann, on: owner) == 2)  // the expired one is not counted
        for token in annTokens { #expect(try await !authenticates(token)) }
        #expect(try await authenticates(benToken))
        #expect(throws: UserDirectory.Failure.self) { try directory.createToken(userId: ann, label: nil, validFor: 30, on: owner) }
        let listing = try directory.list(council: council, on: owner)
        #expect(listing.map(\.name) == ["Ann", "Ben"])
        #expect(listing[0].disabled && listing[0].liveTokens == 0 && listing[0].lastExpiry == nil)
        #expect(!listing[1].disabled && listing[1].liveTokens == 1 && listing[1].lastExpiry != nil)

        try directory.enable(userId: ann, on: owner)
        for token in annTokens { #expect(try await !authenticates(token)) }  // disabling revoked them for good
        #expect(try await authenticates(try directory.createToken(userId: ann, label: nil, validFor: 30, on: owner)))

        // A lost device: every live token of one user, no one else's.
        #expect(try directory.revokeAll(userId: ben, on: owner) == 1)
        #expect(try await !authenticates(benToken))
        #expect(try directory.list(council: council, on: owner)[0].liveTokens == 1)
    }
}
