import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Web sessions and sign-in by password")
struct WebSessionsTests {
    /// A council with one caseworker who has a password; the owner's connection and the service's pool.
    private func setUp() async throws -> (TestDatabase, PostgresConnection, PostgresPool, UUID) {
        let database = try TestDatabase.make()
        let council = try database.addCouncil(code: "A")
        let owner = try database.connect()
        let directory = UserDirectory()
        let ann = try directory.addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        let hash = try await PasswordHash.offPool { try PasswordHash.make("three random words") }
        try owner.query("UPDATE users SET password_hash = $2 WHERE user_id = $1", [ann, hash])
        return (database, owner, try database.pool(), ann)
    }

    @Test("a session is saved and loaded by the service's login, keeps only the id's hash, and carries its user's current role")
    func saveAndLoad() async throws {
        let (_, owner, pool, ann) = try await setUp()
        defer { pool.shutdown() }
        let sessions = WebSessions()
        let data = #"{"userId":"\#(ann.uuidString)","formToken":"t","role":"caseworker","name":"Ann","councilId":"\#(UUID())"}"#
        #expect(try await pool.withConnection { try sessions.save(id: "session-1", data: data, expiresIn: .seconds(86_400), on: $0) })
        let stored = try owner.query("SELECT session_hash, extract(epoch FROM expires_at - created_at)::int FROM web_sessions").rows
        #expect(stored.count == 1)
        #expect(try stored[0].decode(String.self, at: 0) != "session-1")
        #expect(try stored[0].decode(Int.self, at: 1) == 12 * 3600)  // asked for a day, given 12 hours
        try owner.query("UPDATE users SET role = 'manager' WHERE user_id = $1", [ann])
        let loaded = try #require(try await pool.withConnection { try sessions.load(id: "session-1", on: $0) })
        let object = try JSONSerialization.jsonObject(with: Data(loaded.data.utf8)) as? [String: Any]
        #expect(object?["role"] as? String == "manager" && object?["formToken"] as? String == "t")
        #expect((12 * 3600 - 60)...(12 * 3600) ~= loaded.secondsLeft)
        #expect(try await pool.withConnection { try sessions.load(id: "session-2", on: $0) } == nil)
        // The service's login holds no privilege on the table itself.
        await #expect(throws: PostgresError.self) { try await pool.withConnection { try $0.query("SELECT * FROM web_sessions") } }
        await #expect(throws: PostgresError.self) { try await pool.withConnection { try $0.query("DELETE FROM web_sessions") } }
    }

    @Test("a session ends after 30 minutes idle, 12 hours in all, on sign-out, on a new password, and when its user is disabled")
    func endings() async throws {
        let (_, owner, pool, ann) = try await setUp()
        defer { pool.shutdown() }
        let sessions = WebSessions()
        let data = #"{"userId":"\#(ann.uuidString)"}"#
        func save(_ id: String) async throws { _ = try await pool.withConnection { try sessions.save(id: id, data: data, expiresIn: nil, on: $0) } }
        func live(_ id: String) async throws -> Bool { try await pool.withConnection { try sessions.load(id: id, on: $0) } != nil }
        for id in ["idle", "old", "signed-out", "busy"] { try await save(id) }
        try owner.query(
            "UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes' WHERE session_hash = encode(sha256('idle'::bytea), 'hex')")
        try owner.query(
            """
            UPDATE web_sessions SET created_at = now() - interval '13 hours', expires_at = now() - interval '1 hour'
            WHERE session_hash = encode(sha256('old'::bytea), 'hex')
            """)
        try owner.query(
            "UPDATE web_sessions SET last_seen_at = now() - interval '29 minutes' WHERE session_hash = encode(sha256('busy'::bytea), 'hex')")
        try await pool.withConnection { try sessions.remove(id: "signed-out", on: $0) }
        #expect(try await live("idle") == false)
        #expect(try await live("old") == false)
        #expect(try await live("signed-out") == false)
        #expect(try await live("busy") == true)  // 29 minutes idle is still live, and loading it renews it
        #expect(
            try owner.query(
                "SELECT now() - last_seen_at < interval '1 minute' FROM web_sessions WHERE session_hash = encode(sha256('busy'::bytea), 'hex')"
            ).first!.decode(Bool.self, at: 0))

        // A new password ends every session: the old one may be known.
        try await PasswordHash.offPool { try UserDirectory().setPassword(userId: ann, password: "a brand new password", on: owner) }
        #expect(try await live("busy") == false)
        try await save("after")
        #expect(try await live("after"))
        try UserDirectory().disable(userId: ann, on: owner)
        #expect(try await live("after") == false)
        #expect(try owner.query("SELECT count(*)::int FROM web_sessions WHERE user_id = $1", [ann]).first!.decode(Int.self, at: 0) == 0)
        // A disabled user cannot be given a new session either.
        #expect(try await pool.withConnection { try sessions.save(id: "new", data: data, expiresIn: nil, on: $0) } == false)
    }

    @Test("two-factor enrolment sets a secret only for the user of a live session, once")
    func enrolment() async throws {
        let (_, owner, pool, ann) = try await setUp()
        defer { pool.shutdown() }
        let sessions = WebSessions()
        _ = try await pool.withConnection { try sessions.save(id: "s1", data: #"{"userId":"\#(ann.uuidString)"}"#, expiresIn: nil, on: $0) }
        #expect(try await pool.withConnection { try sessions.enrolSecondFactor(sessionId: "no-such-session", secret: "A", step: 1, on: $0) } == false)
        #expect(try await pool.withConnection { try sessions.enrolSecondFactor(sessionId: "s1", secret: "SECRET1", step: 100, on: $0) })
        #expect(try await pool.withConnection { try sessions.enrolSecondFactor(sessionId: "s1", secret: "SECRET2", step: 101, on: $0) } == false)
        let candidate = try #require(try await pool.withConnection { try sessions.candidates(name: "Ann", on: $0) }.first)
        #expect(candidate.secondFactorSecret == "SECRET1")
        // Each time step signs in once, and never one older than the last used.
        #expect(try await pool.withConnection { try sessions.useSecondFactorStep(sessionId: "s1", step: 100, on: $0) } == false)
        #expect(try await pool.withConnection { try sessions.useSecondFactorStep(sessionId: "s1", step: 101, on: $0) })
        #expect(try await pool.withConnection { try sessions.useSecondFactorStep(sessionId: "s1", step: 101, on: $0) } == false)
        await #expect(throws: PostgresError.self) { try await pool.withConnection { try $0.query("SELECT totp_secret FROM users") } }
        try UserDirectory().resetSecondFactor(userId: ann, on: owner)
        #expect(try await pool.withConnection { try sessions.candidates(name: "Ann", on: $0) }.first?.secondFactorSecret == nil)
    }

    @Test("sign-in finds the user by name and password; a wrong password, an unknown name and a disabled user all fail alike")
    func signIn() async throws {
        let (_, owner, pool, ann) = try await setUp()
        defer { pool.shutdown() }
        let sessions = WebSessions()
        func signIn(_ name: String, _ password: String) async throws -> AuthenticatedUser? {
            let candidates = try await pool.withConnection { try sessions.candidates(name: name, on: $0) }
            return try await PasswordHash.offPool { WebSessions.match(password, among: candidates)?.user }
        }
        let user = try await signIn("Ann", "three random words")
        #expect(user?.userId == ann && user?.role == .caseworker && user?.team == "North")
        #expect(try await signIn("Ann", "three random wordz") == nil)
        #expect(try await signIn("Bob", "three random words") == nil)
        // The service's login still cannot read the password column.
        await #expect(throws: PostgresError.self) { try await pool.withConnection { try $0.query("SELECT password_hash FROM users") } }
        try UserDirectory().disable(userId: ann, on: owner)
        #expect(try await signIn("Ann", "three random words") == nil)
    }
}
