import Foundation
import Postgres

/// Brings a database to the current schema, recording each version in `schema_migrations`.
///
/// A new database gets `schema.sql` (always the current schema) and every version is recorded at once;
/// a database made by an earlier release gets the numbered migrations (`migrations/NNNN.sql`) it lacks,
/// in order, each in its own transaction. Safe to run repeatedly and from several processes at once:
/// an advisory lock serialises runs, and a version already recorded is skipped.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var description: String
        /// The change from the previous version (empty for version 1, which only `schema.sql` creates).
        public var sql: String
    }

    /// The whole current schema, for a new database.
    public let schema: String
    /// Every version, oldest first; the last is the one `schema` is current as of.
    public let migrations: [Migration]

    public init() throws {
        func resource(_ name: String, in directory: String? = nil) throws -> String {
            guard let url = Bundle.module.url(forResource: name, withExtension: "sql", subdirectory: directory) else {
                throw PostgresError(.query, message: "\(directory.map { $0 + "/" } ?? "")\(name).sql is missing from the EHCPStore bundle")
            }
            return try String(contentsOf: url, encoding: .utf8)
        }
        schema = try resource("schema")
        migrations = [
            Migration(version: 1, description: Self.firstReleaseDescription, sql: ""),
            Migration(
                version: 2, description: "caseworker and team on open duties only; row-level security reads the council once per statement",
                sql: try resource("0002", in: "migrations")),
            Migration(
                version: 3, description: "Idempotency-Key on every POST: stored responses for writes that record no case event",
                sql: try resource("0003", in: "migrations")),
            Migration(
                version: 4, description: "access log: the server's request id with the client's beside it, and a reason column",
                sql: try resource("0004", in: "migrations")),
        ]
    }

    /// Version 1 as released (with the API, scheduler and reports). Databases made by earlier development
    /// builds recorded "initial schema" and lack later columns; they are refused with a clear message.
    static let firstReleaseDescription = "initial schema, release 1 (API, scheduler, reports)"

    /// A database whose applied schema is not the one this build expects.
    public struct IncompatibleDatabase: Error, CustomStringConvertible {
        public var found: String
        public var description: String {
            "this database was made by a pre-release development build (its schema is '\(found)'); it holds only demo data: "
                + "move the ./.ehcp folder aside (or drop the database) and run again"
        }
    }

    public var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// Applies what is missing and returns the versions applied now (empty when already current).
    @discardableResult
    public func migrate(on connection: PostgresConnection) throws -> [Int] {
        try connection.query("SELECT pg_advisory_lock(7274270001)")
        defer { _ = try? connection.query("SELECT pg_advisory_unlock(7274270001)") }
        try connection.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version     integer PRIMARY KEY,
                description text NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """)
        let current = try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first!.decode(Int.self, at: 0)
        if let first = try connection.query("SELECT description FROM schema_migrations WHERE version = 1").first?.decode(String.self, at: 0),
            first != Self.firstReleaseDescription
        {
            throw IncompatibleDatabase(found: first)
        }
        var applied: [Int] = []
        if current == 0 {
            do {
                try connection.transaction { connection in
                    try connection.execute(schema)
                    for migration in migrations {
                        try connection.query(
                            "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [migration.version, migration.description])
                    }
                }
            } catch let error as PostgresError where error.sqlState == "42501" && error.message.contains("create role") {
                throw ApplicationRole.Unavailable(user: try ApplicationRole.currentUser(connection), roleExists: false)
            }
            applied = migrations.map(\.version)
        } else {
            for migration in migrations where migration.version > current {
                try connection.transaction { connection in
                    try connection.execute(migration.sql)
                    try connection.query(
                        "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [migration.version, migration.description])
                }
                applied.append(migration.version)
            }
        }
        try ApplicationRole.ensureMember(connection)
        return applied
    }

    /// The version the database is at (0 when never migrated).
    public func currentVersion(on connection: PostgresConnection) throws -> Int {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first!.decode(Bool.self, at: 0)
        guard exists else { return 0 }
        return try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first!.decode(Int.self, at: 0)
    }
}

/// The role the application runs as: it does not own the tables, so row-level security applies and
/// events cannot be updated or deleted.
///
/// The service connects as the database's owner (`DATABASE_URL`) and switches to this role with
/// `SET ROLE`, which needs membership in it. Migrating creates the role and grants that membership when
/// the owner may (a superuser, or a role with CREATEROLE); otherwise a DBA does it once, and the
/// migration says exactly what to run rather than leaving a server that fails every request.
public enum ApplicationRole {
    public static let name = "ehcp_app"

    /// The owner may not create the application role, or may not switch to it.
    public struct Unavailable: Error, CustomStringConvertible {
        public var user: String
        public var roleExists: Bool
        public var description: String {
            let create = roleExists ? "" : "CREATE ROLE \(ApplicationRole.name) NOLOGIN; "
            return "the database user '\(user)' owns the schema but cannot "
                + (roleExists ? "switch to" : "create")
                + " the role \(ApplicationRole.name) that the service runs as; ask a PostgreSQL superuser to run once: "
                + "\(create)GRANT \(ApplicationRole.name) TO \"\(user)\";"
        }
    }

    static func currentUser(_ connection: PostgresConnection) throws -> String {
        try connection.query("SELECT current_user::text").first!.decode(String.self, at: 0)
    }

    /// Makes the connecting user a member of the application role, if it is not one already.
    public static func ensureMember(_ connection: PostgresConnection) throws {
        let member = try connection.query("SELECT pg_has_role(current_user, $1, 'MEMBER')", [name]).first!.decode(Bool.self, at: 0)
        if member { return }
        do {
            try connection.execute("GRANT \(name) TO CURRENT_USER")
        } catch {
            guard error.sqlState == "42501" else { throw error }
            throw Unavailable(user: try currentUser(connection), roleExists: true)
        }
    }

    /// Switches a new connection to the application role, with commits that wait for their WAL flush.
    ///
    /// A 201 means the change is durable, so the session never runs with `synchronous_commit = off`, even
    /// where the server, database or role sets it (an acknowledged commit could then vanish in a crash).
    /// Stronger settings a DBA chose (`remote_write`, `remote_apply` for a standby) are kept.
    public static func assume(_ connection: PostgresConnection) throws {
        try connection.execute(
            "SET ROLE \(name); SELECT set_config('synchronous_commit', 'on', false) WHERE current_setting('synchronous_commit') = 'off'")
    }
}
