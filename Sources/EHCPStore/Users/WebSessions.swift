import Foundation
import Postgres

/// The web pages' sessions, kept in PostgreSQL (`web_sessions`, migration 8) and reached only through
/// its SECURITY DEFINER functions: a session is found before its council is known. The table holds the
/// SHA-256 of each session id, never the id, so reading it (or a backup) opens no session.
///
/// A session ends 12 hours after sign-in, after `idle` without a request, when its user signs out, and
/// when its user is disabled (`UserDirectory.disable`).
public struct WebSessions: Sendable {
    /// The longest a session lives, however busy.
    public static let lifetime = Duration.seconds(12 * 60 * 60)
    /// How long a session may go without a request.
    public static let idle = Duration.seconds(30 * 60)

    public init() {}

    /// Saves a session whose data names its user (`userId`); false when that user is unknown or disabled.
    @discardableResult
    public func save(id: String, data: String, expiresIn: Duration?, on connection: PostgresConnection) throws -> Bool {
        try connection.query(
            "SELECT ehcp_session_save($1, $2::jsonb, make_interval(secs => $3::double precision))",
            [id, data, expiresIn.map { Double($0.components.seconds) }]
        ).first!.decode(Bool.self, at: 0)
    }

    /// A live session's data, its user's current details merged in, and the seconds it has left.
    public func load(id: String, on connection: PostgresConnection) throws -> (data: String, secondsLeft: Int)? {
        guard
            let row = try connection.query(
                "SELECT data::text, seconds_left FROM ehcp_session_load($1, make_interval(secs => $2::double precision))",
                [id, Double(Self.idle.components.seconds)]
            ).first
        else { return nil }
        return (try row.decode(at: 0), try row.decode(at: 1))
    }

    public func remove(id: String, on connection: PostgresConnection) throws {
        try connection.query("SELECT ehcp_session_remove($1)", [id])
    }

    /// One enabled user with this name and a password: who they are, the password's hash, and the secret
    /// of their authenticator app when they have enrolled for two-factor sign-in.
    public struct Candidate: Sendable {
        public var user: AuthenticatedUser
        public var hash: String
        public var secondFactorSecret: String?
    }

    /// The enabled users with this name who have a password: a name held in several councils is tried
    /// against each. Check them with `match`, off the cooperative pool.
    public func candidates(name: String, on connection: PostgresConnection) throws -> [Candidate] {
        try connection.query(
            "SELECT user_id, council_id, name, role, team, password_hash, totp_secret FROM ehcp_sign_in_candidates($1)", [name]
        ).rows.compactMap { row in
            guard let role = UserRole(rawValue: try row.decode(String.self, at: 3)) else { return nil }
            let user = AuthenticatedUser(
                userId: try row.decode(at: 0), councilId: try row.decode(at: 1), name: try row.decode(at: 2), role: role,
                team: try row.decodeIfPresent(at: 4))
            return Candidate(user: user, hash: try row.decode(at: 5), secondFactorSecret: try row.decodeIfPresent(at: 6))
        }
    }

    /// The candidate whose password this is, or nil. With no candidates a decoy hash is checked all the
    /// same, so the time taken does not tell whether the account exists.
    public static func match(_ password: String, among candidates: [Candidate]) -> Candidate? {
        if candidates.isEmpty {
            _ = PasswordHash.verify(password, against: PasswordHash.decoy)
            return nil
        }
        return candidates.first { PasswordHash.verify(password, against: $0.hash) }
    }

    /// Enrols the user of session `id` for two-factor sign-in with `secret`, the code's time step spent;
    /// false when the session is not live or its user is already enrolled.
    public func enrolSecondFactor(sessionId id: String, secret: String, step: Int64, on connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT ehcp_totp_enrol($1, $2, $3)", [id, secret, step]).first!.decode(Bool.self, at: 0)
    }

    /// Spends a code's time step for the user of session `id`: false when that step, or a later one, was
    /// used already (a code is good for one sign-in).
    public func useSecondFactorStep(sessionId id: String, step: Int64, on connection: PostgresConnection) throws -> Bool {
        try connection.query("SELECT ehcp_totp_use($1, $2)", [id, step]).first!.decode(Bool.self, at: 0)
    }
}
