import Foundation
import Postgres

/// Applies the schema and any numbered migrations, once each, recording them in `schema_migrations`.
///
/// Safe to run repeatedly and from several processes at once: an advisory lock serialises runs, and a
/// version already recorded is skipped.
public struct Migrator: Sendable {
    public struct Migration: Sendable {
        public var version: Int
        public var description: String
        public var sql: String
    }

    /// Version 1 is `schema.sql`; later numbered migrations are appended here.
    public let migrations: [Migration]

    public init() throws {
        guard let url = Bundle.module.url(forResource: "schema", withExtension: "sql") else {
            throw PostgresError(.query, message: "schema.sql is missing from the EHCPStore bundle")
        }
        migrations = [Migration(version: 1, description: Self.firstReleaseDescription, sql: try String(contentsOf: url, encoding: .utf8))]
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
           first != Self.firstReleaseDescription {
            throw IncompatibleDatabase(found: first)
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) where migration.version > current {
            try connection.transaction { connection in
                try connection.execute(migration.sql)
                try connection.query(
                    "INSERT INTO schema_migrations (version, description) VALUES ($1, $2)", [migration.version, migration.description])
            }
            applied.append(migration.version)
        }
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
public enum ApplicationRole {
    public static let name = "ehcp_app"

    /// Switches a new connection to the application role.
    public static func assume(_ connection: PostgresConnection) throws {
        try connection.execute("SET ROLE \(name)")
    }
}
