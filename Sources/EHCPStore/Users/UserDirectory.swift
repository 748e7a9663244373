import Foundation
import Postgres

/// A role (architecture.md, Security): what a user may do.
public enum UserRole: String, Sendable, Hashable, CaseIterable, Codable {
    /// Reads cases, logs events.
    case caseworker
    /// Caseworker, plus reports and assignment.
    case manager
    /// Manager, plus users, webhooks and settings.
    case admin
    /// Reads everything, writes nothing.
    case auditor
}

/// Who a bearer token belongs to.
public struct AuthenticatedUser: Sendable, Hashable {
    public var userId: UUID
    public var councilId: UUID
    public var name: String
    public var role: UserRole
    public var team: String?

    public init(userId: UUID, councilId: UUID, name: String, role: UserRole, team: String?) {
        self.userId = userId
        self.councilId = councilId
        self.name = name
        self.role = role
        self.team = team
    }
}

/// Users and their bearer tokens. A token is 256 random bits, shown once; only its SHA-256 is stored.
public struct UserDirectory: Sendable {
    public init() {}

    public enum Failure: Error, CustomStringConvertible {
        case unknownCouncil(String, known: [String])
        case noCouncil
        case unknownUser(String)
        case unknownToken
        case ambiguousTokenId(String)
        case malformedTokenId(String)
        case disabledUser(String)
        case notAnAddress(String)

        public var description: String {
            switch self {
            case .unknownCouncil(let code, let known):
                "no council '\(code)'; councils: \(known.isEmpty ? "none yet" : known.joined(separator: ", ")); add one with: ehcp councils add \(code.contains(" ") ? "'\(code)'" : code) --name NAME"
            case .noCouncil: "there are several councils: name one with --council"
            case .unknownUser(let name): "no user '\(name)' in that council"
            case .unknownToken: "no live token matches"
            case .ambiguousTokenId(let id): "more than one live token has an id beginning '\(id)'; give more of it"
            case .malformedTokenId(let id):
                "'\(id)' is not a token id: ids are at least \(UserDirectory.tokenIdLength) hex digits, as 'ehcp tokens list' shows them"
            case .disabledUser(let name): "user '\(name)' is disabled; let them back in first with: ehcp users enable \(name)"
            case .notAnAddress(let text): "email: '\(text)' is not an email address (one mailbox, like name@council.gov.uk, without a display name)"
            }
        }
    }

    /// The council with this code, or the only council when `code` is nil.
    public func council(code: String?, on connection: PostgresConnection) throws -> UUID {
        let rows = try connection.query("SELECT council_id, code FROM councils ORDER BY code")
        let councils = try rows.rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1)) }
        if let code {
            guard let match = councils.first(where: { $0.1 == code }) else { throw Failure.unknownCouncil(code, known: councils.map(\.1)) }
            return match.0
        }
        guard councils.count == 1 else { throw councils.isEmpty ? Failure.unknownCouncil("(none)", known: []) : Failure.noCouncil }
        return councils[0].0
    }

    /// Adds a user (or finds the existing one with that name) and returns their id. Runs as the owner.
    public func addUser(name: String, role: UserRole, team: String?, council: UUID, on connection: PostgresConnection) throws -> UUID {
        try connection.query(
            "INSERT INTO users (user_id, council_id, name, role, team) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (council_id, name) DO NOTHING",
            [UUID(), council, name, role.rawValue, team])
        guard let row = try connection.query("SELECT user_id FROM users WHERE council_id = $1 AND name = $2", [council, name]).first else {
            throw Failure.unknownUser(name)
        }
        return try row.decode(UUID.self, at: 0)
    }

    public func userId(name: String, council: UUID, on connection: PostgresConnection) throws -> UUID {
        guard let row = try connection.query("SELECT user_id FROM users WHERE council_id = $1 AND name = $2", [council, name]).first else {
            throw Failure.unknownUser(name)
        }
        return try row.decode(UUID.self, at: 0)
    }

    /// Creates a token for a user and returns it: the only time it exists outside the caller's hands.
    public func createToken(userId: UUID, label: String?, validFor days: Int, on connection: PostgresConnection) throws -> String {
        if let disabled = try connection.query("SELECT name FROM users WHERE user_id = $1 AND disabled_at IS NOT NULL", [userId]).first {
            throw Failure.disabledUser(try disabled.decode(String.self, at: 0))
        }
        var generator = SystemRandomNumberGenerator()  // getrandom(2): cryptographically secure
        let token = "ehcp_" + (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
        try connection.query(
            """
            INSERT INTO api_tokens (token_hash, user_id, label, expires_at)
            VALUES (encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2, $3, now() + make_interval(days => $4))
            """,
            [token, userId, label, days])
        return token
    }

    /// Digits of a token's SHA-256 that name it: enough to revoke it without ever showing the token again.
    public static let tokenIdLength = 12

    /// A token's id (`tokenIdLength` hex digits of the hash the database keeps).
    public func tokenId(of token: String, on connection: PostgresConnection) throws -> String {
        try connection.query("SELECT left(encode(sha256(convert_to($1, 'UTF8')), 'hex'), $2)", [token, Self.tokenIdLength]).first!.decode(at: 0)
    }

    /// One of a user's tokens, as `ehcp tokens list` shows it; never the token itself.
    public struct TokenListing: Sendable, Equatable {
        public var id: String
        public var label: String?
        public var expiresOn: String
        /// live, revoked or expired.
        public var state: String
    }

    /// A user's tokens, newest first.
    public func tokens(userId: UUID, on connection: PostgresConnection) throws -> [TokenListing] {
        try connection.query(
            """
            SELECT left(token_hash, $2), label, to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                   CASE WHEN revoked_at IS NOT NULL THEN 'revoked' WHEN expires_at <= now() THEN 'expired' ELSE 'live' END
            FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, token_hash
            """, [userId, Self.tokenIdLength]
        ).rows.map { row in
            TokenListing(
                id: try row.decode(at: 0), label: try row.decodeIfPresent(at: 1), expiresOn: try row.decode(at: 2), state: try row.decode(at: 3))
        }
    }

    /// Revokes the live token whose id begins `id`; throws when none, or more than one, does.
    public func revoke(id: String, on connection: PostgresConnection) throws {
        let id = id.lowercased()
        guard id.utf8.count >= Self.tokenIdLength, id.utf8.count <= 64,
            id.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) })
        else {
            throw Failure.malformedTokenId(id)
        }
        let revoked = try connection.transaction { connection in
            let matches = try connection.query(
                "SELECT count(*) FROM api_tokens WHERE left(token_hash, length($1)) = $1 AND revoked_at IS NULL", [id]
            ).first!.decode(Int.self, at: 0)
            if matches > 1 { throw Failure.ambiguousTokenId(id) }
            return try connection.query(
                "UPDATE api_tokens SET revoked_at = now() WHERE left(token_hash, length($1)) = $1 AND revoked_at IS NULL", [id]
            ).affected
        }
        if revoked == 0 { throw Failure.unknownToken }
    }

    /// Revokes a token; throws when no live token matches.
    public func revoke(token: String, on connection: PostgresConnection) throws {
        let revoked = try connection.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') AND revoked_at IS NULL",
            [token]
        ).affected
        if revoked == 0 { throw Failure.unknownToken }
    }

    /// Revokes every live token of a user (a lost device, a suspected leak) and returns how many.
    @discardableResult
    public func revokeAll(userId: UUID, on connection: PostgresConnection) throws -> Int {
        try connection.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()", [userId]
        ).affected
    }

    /// Disables a user (a leaver): none of their tokens authenticates from now on, their web sessions end,
    /// and as a manager they get no more team alerts. Their name stays on the events they recorded, and on the cases they hold
    /// until those are reassigned (`openCases(assignedTo:)`). Returns the live tokens revoked with it.
    @discardableResult
    public func disable(userId: UUID, on connection: PostgresConnection) throws -> Int {
        try connection.transaction { connection in
            try connection.query("UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE user_id = $1", [userId])
            try connection.query("DELETE FROM web_sessions WHERE user_id = $1", [userId])
            return try revokeAll(userId: userId, on: connection)
        }
    }

    /// Open cases (not withdrawn, ceased or transferred out) whose caseworker is `name`: what a manager
    /// must reassign when that caseworker leaves. Runs as the owner.
    public func openCases(assignedTo name: String, council: UUID, on connection: PostgresConnection) throws -> Int {
        try connection.query(
            """
            SELECT count(*)::int FROM case_summary
            WHERE council_id = $1 AND caseworker = $2 AND stage NOT IN ('withdrawn', 'ceased', 'transferredOut')
            """, [council, name]
        ).first!.decode(Int.self, at: 0)
    }

    /// Sets a user's password for the web pages, kept only as its scrypt hash (`PasswordHash`), and ends
    /// their sessions (a password is changed because the old one may be known).
    /// - Throws: `PasswordHash.Refused` for a password too short or too long.
    public func setPassword(userId: UUID, password: String, on connection: PostgresConnection) throws {
        let hash = try PasswordHash.make(password)
        try connection.transaction { connection in
            try connection.query("UPDATE users SET password_hash = $2 WHERE user_id = $1", [userId, hash])
            try connection.query("DELETE FROM web_sessions WHERE user_id = $1", [userId])
        }
    }

    /// Forgets a user's two-factor secret (a lost phone): they enrol again at their next sign-in when
    /// their role needs a second factor. Their sessions end.
    public func resetSecondFactor(userId: UUID, on connection: PostgresConnection) throws {
        try connection.transaction { connection in
            try connection.query("UPDATE users SET totp_secret = NULL WHERE user_id = $1", [userId])
            try connection.query("DELETE FROM web_sessions WHERE user_id = $1", [userId])
        }
    }

    /// Sets (or, with nil, removes) the address a user's alerts are emailed to, and clears any note that
    /// the old one bounced. Owner's connection only: the service may not redirect anyone's alerts.
    public func setEmail(userId: UUID, address: String?, on connection: PostgresConnection) throws {
        if let address, !EmailChoices.isAddress(address) {
            throw Failure.notAnAddress(address)
        }
        try connection.query("UPDATE users SET email = $2, email_failed_at = NULL, email_failure = NULL WHERE user_id = $1", [userId, address])
    }

    /// Lets a disabled user back in; they need a new token (`createToken`), since disabling revoked the old ones.
    public func enable(userId: UUID, on connection: PostgresConnection) throws {
        try connection.query("UPDATE users SET disabled_at = NULL WHERE user_id = $1", [userId])
    }

    /// One user as `ehcp users list` shows them.
    public struct Listing: Sendable, Equatable {
        public var name: String
        public var role: UserRole
        public var team: String?
        public var disabled: Bool
        /// Tokens neither revoked nor expired.
        public var liveTokens: Int
        /// When the last live token expires, as `YYYY-MM-DD` (UTC); nil without one.
        public var lastExpiry: String?
        /// Whether they have a password for the web pages, and an authenticator app set up.
        public var hasPassword: Bool
        public var hasSecondFactor: Bool
        /// Where their alerts are emailed, and whether it last bounced.
        public var email: String?
        public var emailFailed: Bool
    }

    /// A council's users, by name.
    public func list(council: UUID, on connection: PostgresConnection) throws -> [Listing] {
        try connection.query(
            """
            SELECT u.name, u.role, u.team, u.disabled_at IS NOT NULL,
                   count(t.token_hash)::int, to_char(max(t.expires_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
                   u.password_hash IS NOT NULL, u.totp_secret IS NOT NULL, u.email, u.email_failed_at IS NOT NULL
            FROM users u
            LEFT JOIN api_tokens t ON t.user_id = u.user_id AND t.revoked_at IS NULL AND t.expires_at > now()
            WHERE u.council_id = $1
            GROUP BY u.user_id ORDER BY u.name
            """, [council]
        ).rows.map { row in
            let role: String = try row.decode(at: 1)
            guard let known = UserRole(rawValue: role) else { throw PostgresError(.decoding, message: "unknown role '\(role)' in users") }
            return Listing(
                name: try row.decode(at: 0), role: known, team: try row.decodeIfPresent(at: 2), disabled: try row.decode(at: 3),
                liveTokens: try row.decode(at: 4), lastExpiry: try row.decodeIfPresent(at: 5), hasPassword: try row.decode(at: 6),
                hasSecondFactor: try row.decode(at: 7), email: try row.decodeIfPresent(at: 8), emailFailed: try row.decode(at: 9))
        }
    }

    /// The user a token belongs to, or nil when it is unknown, revoked or expired. Safe as the application role.
    public func authenticate(token: String, on connection: PostgresConnection) throws -> AuthenticatedUser? {
        guard let row = try connection.query("SELECT user_id, council_id, name, role, team FROM ehcp_authenticate($1)", [token]).first,
            let role = UserRole(rawValue: try row.decode(String.self, at: 3))
        else { return nil }
        return AuthenticatedUser(
            userId: try row.decode(at: 0), councilId: try row.decode(at: 1), name: try row.decode(at: 2), role: role,
            team: try row.decodeIfPresent(at: 4))
    }
}
