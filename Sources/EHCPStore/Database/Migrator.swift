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
            Migration(
                version: 5, description: "row-level security forced on the owner too; the sign-in function's search path pinned",
                sql: try resource("0005", in: "migrations")),
            Migration(
                version: 6, description: "one append statement: the ehcp_append function goes", sql: try resource("0006", in: "migrations")),
            Migration(
                version: 7, description: "passwords as scrypt hashes, unreadable by the service", sql: try resource("0007", in: "migrations")),
            Migration(
                version: 8, description: "web sessions and two-factor secrets, reached only through sign-in functions; the work-tray index",
                sql: try resource("0008", in: "migrations")),
            Migration(
                version: 9, description: "missed and expired clocks: a moved-past overdue duty is stored as missed, with its day",
                sql: try resource("0009", in: "migrations")),
            Migration(
                version: 10, description: "deadline alerts by email: addresses and choices, emails and digests in the outbox",
                sql: try resource("0010", in: "migrations")),
            Migration(
                version: 11, description: "clock counts: the timeliness measures' figures kept beside the deadline rows",
                sql: try resource("0011", in: "migrations")),
            Migration(
                version: 12, description: "search through a trigram index on names and an index on references",
                sql: try resource("0012", in: "migrations")),
            Migration(
                version: 13, description: "caseload counts: the caseload report's figures kept beside the case summaries",
                sql: try resource("0013", in: "migrations")),
            Migration(
                version: 14, description: "duty counts: the breach report's totals kept beside the deadline rows",
                sql: try resource("0014", in: "migrations")),
            Migration(
                version: 15, description: "DfE counts: the DfE's measures kept beside the case summaries, by year and birth cohort",
                sql: try resource("0015", in: "migrations")),
        ]
    }

    /// Version 1 as released (with the API, scheduler and reports). Databases made by earlier development
    /// builds recorded "initial schema" and lack later columns; they are refused with a clear message.
    static let firstReleaseDescription = "initial schema, release 1 (API, scheduler, reports)"

    /// A database whose applied schema is not the one this build expects.
    public struct IncompatibleDatabase: DatabaseRefusal {
        public var found: String
        public var description: String {
            "this database was made by a pre-release development build (its schema is '\(found)'); it holds only demo data: "
                + "move the ./.ehcp folder aside (or drop the database) and run again"
        }
    }

    public var latestVersion: Int { migrations.map(\.version).max() ?? 0 }

    /// A database behind this build, reached by a login that may not change its schema.
    public struct NotOwner: DatabaseRefusal {
        public var user: String
        public var version: Int?
        public var needed: Int
        public var description: String {
            "the database's schema is \(version.map { "at version \($0)" } ?? "older than this build") and this build needs version \(needed), "
                + "but '\(user)' may not change the schema; "
                + "run 'ehcp migrate' with DATABASE_OWNER_URL set to the owner's URL"
        }
    }

    /// Applies what is missing and returns the versions applied now (empty when already current).
    ///
    /// On a current database this only reads, so the service's own login may call it; changing the schema
    /// needs the owner. Either way it ends by checking that the owner is not bound by the forced policies.
    @discardableResult
    public func migrate(on connection: PostgresConnection) throws -> [Int] {
        var applied: [Int] = []
        do {
            // A newer build may have migrated further; this one runs on its schema, which only ever grows.
            if try currentVersion(on: connection) >= latestVersion {
                try refusePreRelease(connection)
                try ApplicationRole.checkOwner(connection)
                return []
            }
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
            let current = try currentVersion(on: connection)
            try refusePreRelease(connection)
            // Before anything is applied, so that forcing the policies can never lock sign-in out: the owner
            // to be (a new database's migrating user) or the tables' owner must be able to read past them.
            if current == 0 { try ApplicationRole.checkMigrator(connection) } else { try ApplicationRole.checkOwner(connection) }
            if current == 0 {
                try connection.transaction { connection in
                    try connection.execute(schema)
                    for migration in migrations {
                        try connection.query(
                            "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [migration.version, migration.description])
                    }
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
        } catch let error as PostgresError where error.sqlState == "42501" {
            let user = try ApplicationRole.currentUser(connection)
            if error.message.contains("create role") { throw ApplicationRole.Unavailable(user: user) }
            throw NotOwner(user: user, version: try? currentVersion(on: connection), needed: latestVersion)
        }
        try ApplicationRole.checkOwner(connection)
        return applied
    }

    private func refusePreRelease(_ connection: PostgresConnection) throws {
        if let first = try connection.query("SELECT description FROM schema_migrations WHERE version = 1").first?.decode(String.self, at: 0),
            first != Self.firstReleaseDescription
        {
            throw IncompatibleDatabase(found: first)
        }
    }

    /// The version the database is at (0 when never migrated).
    public func currentVersion(on connection: PostgresConnection) throws -> Int {
        let exists = try connection.query("SELECT to_regclass('schema_migrations') IS NOT NULL").first!.decode(Bool.self, at: 0)
        guard exists else { return 0 }
        return try connection.query("SELECT coalesce(max(version), 0) FROM schema_migrations").first!.decode(Int.self, at: 0)
    }
}
