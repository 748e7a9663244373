import EHCPStore
import Foundation
import Postgres

/// A fresh, migrated database in the throwaway cluster that `scripts/with-test-postgres.sh` starts.
public struct TestDatabase: Sendable {
    public struct NotConfigured: Error, CustomStringConvertible {
        public var description: String {
            "EHCP_TEST_DATABASE_URL is not set: run the tests with 'make test' (scripts/test.sh), which starts a throwaway PostgreSQL"
        }
    }

    /// Owner (superuser) conninfo for this test's database.
    public let conninfo: String
    public let name: String

    /// Creates a uniquely named database and applies the schema, in the throwaway cluster or in `cluster`
    /// (a conninfo ending `dbname=postgres`).
    public static func make(migrate: Bool = true, cluster: String? = nil) throws -> TestDatabase {
        guard let base = cluster ?? ProcessInfo.processInfo.environment["EHCP_TEST_DATABASE_URL"] else { throw NotConfigured() }
        let name = "t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let admin = try PostgresConnection(base)
        try admin.execute("CREATE DATABASE \(name)")
        admin.close()
        let conninfo = base.replacingOccurrences(of: "dbname=postgres", with: "dbname=\(name)")
        if migrate {
            let connection = try PostgresConnection(conninfo)
            try Migrator().migrate(on: connection)
            try ApplicationRole.provisionLogin(on: connection)
            connection.close()
        }
        return TestDatabase(conninfo: conninfo, name: name)
    }

    /// The service's login (`ApplicationRole.embeddedLogin`) to this database, as the embedded one provisions it.
    public var serviceConninfo: String { conninfo.replacingOccurrences(of: "user=ehcp ", with: "user=\(ApplicationRole.embeddedLogin) ") }

    /// A pool as the table owner (a superuser, so no row-level security) or as the service.
    public func pool(size: Int = 4, asApplication: Bool = true, acquireTimeout: Duration = .seconds(10)) throws -> PostgresPool {
        try PostgresPool(
            .init(
                conninfo: asApplication ? serviceConninfo : conninfo, size: size, acquireTimeout: acquireTimeout,
                onConnect: { connection in
                    if asApplication { try ApplicationRole.assume(connection) }
                }))
    }

    /// A connection as the owner.
    public func connect() throws -> PostgresConnection { try PostgresConnection(conninfo) }

    /// Inserts a council and returns its id.
    @discardableResult
    public func addCouncil(code: String = "C\(Int.random(in: 1000...9999))", id: UUID = UUID()) throws -> UUID {
        let connection = try connect()
        defer { connection.close() }
        try connection.query("INSERT INTO councils (council_id, code, name) VALUES ($1, $2, $3)", [id, code, "Council \(code)"])
        return id
    }
}
