import Foundation
import Postgres

/// A database the service will not run on as it stands, with what a person must do about it in one line.
public protocol DatabaseRefusal: Error, CustomStringConvertible {}

/// The roles the database is run with (docs/operations.md, "Database roles"):
///
/// - the **owner** of the tables migrates the schema and does cross-council maintenance (sign-in
///   lookups, projection rebuilds, user administration), so it is a superuser or `BYPASSRLS`;
/// - **`ehcp_app`** holds what the service may do: row-level security applies to it, and it may not
///   update or delete events;
/// - the service's **login** is a member of `ehcp_app` and owns nothing, so nothing the service runs,
///   `RESET ROLE` included, gives it more than `ehcp_app` has. The embedded database's login is
///   `ehcp_service`; an external server's DBA creates their own.
public enum ApplicationRole {
    public static let name = "ehcp_app"
    /// The login the embedded database provisions for the service.
    public static let embeddedLogin = "ehcp_service"

    /// The owner may not create the application role.
    public struct Unavailable: DatabaseRefusal {
        public var user: String
        public var description: String {
            "the database user '\(user)' owns the schema but cannot create the role \(ApplicationRole.name) that the service runs as; "
                + "ask a PostgreSQL superuser to run once: CREATE ROLE \(ApplicationRole.name) NOLOGIN;"
        }
    }

    /// The tables' owner is bound by the (forced) policies, so sign-in and maintenance would see no rows.
    public struct OwnerBoundByPolicies: DatabaseRefusal {
        public var owner: String
        public var description: String {
            "the tables' owner '\(owner)' is bound by row-level security, which is forced on every council table, so signing in and "
                + "maintenance across councils would find no rows; ask a PostgreSQL superuser to run once: ALTER ROLE \"\(owner)\" BYPASSRLS;"
        }
    }

    /// The service's login could do more than `ehcp_app` may.
    public struct LoginTooStrong: DatabaseRefusal {
        public var login: String
        public var reason: String
        public var description: String {
            "the service logs in as '\(login)', which \(reason); it must log in as a role that owns nothing and is a member of "
                + "\(ApplicationRole.name), so that nothing it runs, RESET ROLE included, can change events or read another council "
                + "(docs/operations.md, 'Database roles', gives the statements; set DATABASE_OWNER_URL for migrations)"
        }
    }

    /// Through a transaction pooler the service sets nothing per session, so the login's own settings
    /// must already be what the service needs.
    public struct PooledSessionRefused: DatabaseRefusal {
        public var login: String
        public var setting: String
        public var fix: String
        public var description: String {
            "the service logs in as '\(login)' with \(setting), and through a transaction pooler (DATABASE_POOL_MODE=transaction) it "
                + "cannot change that for each session; ask a PostgreSQL superuser to run once: \(fix)"
        }
    }

    static func currentUser(_ connection: PostgresConnection) throws -> String {
        try connection.query("SELECT current_user::text").first!.decode(String.self, at: 0)
    }

    /// Refuses, before anything is applied, a migrating user that would own tables the forced policies bind.
    static func checkMigrator(_ connection: PostgresConnection) throws {
        let row = try connection.query("SELECT current_user::text, rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user").first!
        if !(try row.decode(Bool.self, at: 1)) { throw OwnerBoundByPolicies(owner: try row.decode(String.self, at: 0)) }
    }

    /// Refuses a schema whose owner the forced policies would bind.
    static func checkOwner(_ connection: PostgresConnection) throws {
        let row = try connection.query(
            """
            SELECT r.rolname::text, r.rolsuper OR r.rolbypassrls
            FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE c.oid = 'public.events'::regclass
            """
        ).first!
        if !(try row.decode(Bool.self, at: 1)) { throw OwnerBoundByPolicies(owner: try row.decode(String.self, at: 0)) }
    }

    /// Creates the embedded database's service login, a member of `ehcp_app`, unless it exists.
    /// Run by the owner (a superuser) after migrating; safe when several processes do it at once.
    public static func provisionLogin(on owner: PostgresConnection) throws {
        try owner.execute(
            """
            DO $$ BEGIN
                IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '\(embeddedLogin)') THEN
                    CREATE ROLE \(embeddedLogin) LOGIN IN ROLE \(name);
                END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$
            """)
    }

    /// Prepares a new connection of the service: refuses a login that could become more than `ehcp_app`
    /// (a superuser; the tables' owner or a member of it; `BYPASSRLS`, `CREATEROLE` or `REPLICATION`; a member
    /// of any other role, such as `pg_write_all_data`); then switches to `ehcp_app`, with commits that wait
    /// for their WAL flush.
    ///
    /// A 201 means the change is durable, so the session never runs with `synchronous_commit = off`, even
    /// where the server, database or role sets it (an acknowledged commit could then vanish in a crash).
    /// Stronger settings a DBA chose (`remote_write`, `remote_apply` for a standby) are kept.
    ///
    /// Through a transaction pooler (PgBouncer), a session setting would stay on whichever server session
    /// ran it, so nothing is set: the login acts with `ehcp_app`'s privileges by inheriting them (a
    /// `NOINHERIT` login is refused), and a server, database or role that turns `synchronous_commit` off
    /// is refused rather than overridden.
    public static func assume(_ connection: PostgresConnection) throws {
        let login = try connection.query(
            """
            SELECT r.rolname::text, r.rolsuper, r.rolbypassrls, r.rolcreaterole, r.rolreplication,
                   pg_has_role(r.oid, c.relowner, 'MEMBER'),
                   (SELECT string_agg(g.rolname, ', ' ORDER BY g.rolname) FROM pg_roles g
                    WHERE g.oid <> r.oid AND g.rolname <> $1 AND pg_has_role(r.oid, g.oid, 'MEMBER'))
            FROM pg_roles r, pg_class c WHERE r.rolname = session_user AND c.oid = 'public.events'::regclass
            """, [name]
        ).first!
        let reasons = [
            (1, "is a superuser"), (5, "owns the tables"), (2, "bypasses row-level security"), (3, "may create and grant roles"),
            (4, "may replicate"),
        ]
        var reason = try reasons.first(where: { try login.decode(Bool.self, at: $0.0) })?.1
        if reason == nil, let others: String = try login.decodeIfPresent(at: 6) { reason = "is a member of roles besides \(name) (\(others))" }
        if let reason { throw LoginTooStrong(login: try login.decode(String.self, at: 0), reason: reason) }
        if connection.transactionPooled {
            let session = try connection.query(
                "SELECT session_user::text, rolinherit, current_setting('synchronous_commit') FROM pg_roles WHERE rolname = session_user"
            ).first!
            let user = try session.decode(String.self, at: 0)
            if !(try session.decode(Bool.self, at: 1)) {
                throw PooledSessionRefused(login: user, setting: "NOINHERIT", fix: "ALTER ROLE \"\(user)\" INHERIT;")
            }
            if try session.decode(String.self, at: 2) == "off" {
                throw PooledSessionRefused(
                    login: user, setting: "synchronous_commit = off", fix: "ALTER ROLE \"\(user)\" SET synchronous_commit = on;")
            }
            return
        }
        try connection.execute(
            "SET ROLE \(name); SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'")
    }
}
