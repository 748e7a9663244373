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

        public var description: String {
            switch self {
            case .unknownCouncil(let code, let known):
                "no council '\(code)'; councils: \(known.isEmpty ? "none yet" : known.joined(separator: ", ")); add one with: ehcp councils add \(code.contains(" ") ? "'\(code)'" : code) --name NAME"
            case .noCouncil: "there are several councils: name one with --council"
            case .unknownUser(let name): "no user '\(name)' in that council"
            case .unknownToken: "no live token matches"
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

    /// Revokes a token; throws when no live token matches.
    public func revoke(token: String, on connection: PostgresConnection) throws {
        let revoked = try connection.query(
            "UPDATE api_tokens SET revoked_at = now() WHERE token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') AND revoked_at IS NULL",
            [token]
        ).affected
        if revoked == 0 { throw Failure.unknownToken }
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
