import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

/// The database is the boundary: what the service's login can and cannot do, and what a council's DBA
/// provisions (a database owned by an ordinary login role, not a superuser).
@Suite("Database roles: the owner, ehcp_app and the service's login")
struct ApplicationRoleTests {
    /// A new login role owning a new, empty database (in `cluster`, else the shared one); its name and conninfo.
    static func ownedDatabase(_ attributes: String, cluster conninfo: String? = nil) throws -> (owner: String, conninfo: String) {
        let database = try TestDatabase.make(migrate: false, cluster: conninfo)
        let admin = try database.connect()
        defer { admin.close() }
        let owner = "owner_" + UUID().uuidString.prefix(8).lowercased()
        try admin.execute("CREATE ROLE \(owner) LOGIN \(attributes)")
        try admin.execute("ALTER DATABASE \(database.name) OWNER TO \(owner); ALTER SCHEMA public OWNER TO \(owner)")
        return (owner, database.conninfo.replacingOccurrences(of: "user=ehcp ", with: "user=\(owner) "))
    }

    static func sqlState(_ body: () throws -> Void) -> String? {
        do { try body() } catch let error as PostgresError { return error.sqlState } catch { return "not a database error: \(error)" }
        return nil
    }

    @Test("the DBA's statements in docs/operations.md: the owner migrates, the login serves, and neither can stand in for the other")
    func dbaProvisioning() throws {
        let (owner, conninfo) = try Self.ownedDatabase("CREATEROLE BYPASSRLS")
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }
        #expect(try Migrator().migrate(on: connection) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        let error = try #require(throws: ApplicationRole.LoginTooStrong.self) { try ApplicationRole.assume(connection) }
        #expect(error.description.contains("'\(owner)', which owns the tables"))

        let login = "service_" + UUID().uuidString.prefix(8).lowercased()
        try connection.execute("CREATE ROLE \(login) LOGIN IN ROLE \(ApplicationRole.name)")
        let service = try PostgresConnection(conninfo.replacingOccurrences(of: "user=\(owner) ", with: "user=\(login) "))
        defer { service.close() }
        #expect(try Migrator().migrate(on: service) == [])  // a current schema: the login only reads its version
        try ApplicationRole.assume(service)
        #expect(try service.query("SELECT count(*) FROM case_summary").first!.decode(Int.self, at: 0) == 0)
    }

    @Test("a superuser, or a login that could make itself more than ehcp_app, is refused as the service's login")
    func strongLoginsRefused() throws {
        let database = try TestDatabase.make()
        let connection = try database.connect()
        defer { connection.close() }
        let error = try #require(throws: ApplicationRole.LoginTooStrong.self) { try ApplicationRole.assume(connection) }
        #expect(error.description.contains("is a superuser"))
        for (attributes, reason) in [
            ("CREATEROLE", "may create and grant roles"), ("IN ROLE ehcp_app, pg_write_all_data", "besides ehcp_app (pg_write_all_data)"),
        ] {
            let login = "strong_" + UUID().uuidString.prefix(8).lowercased()
            try connection.execute("CREATE ROLE \(login) LOGIN \(attributes)")
            let strong = try PostgresConnection(database.conninfo.replacingOccurrences(of: "user=ehcp ", with: "user=\(login) "))
            defer { strong.close() }
            let refused = try #require(throws: ApplicationRole.LoginTooStrong.self) { try ApplicationRole.assume(strong) }
            #expect(refused.description.contains(reason), "\(refused)")
        }
    }

    @Test("an owner the forced policies would bind is told the one ALTER ROLE a superuser must run; after it, all works")
    func ownerWithoutBypass() throws {
        let (owner, conninfo) = try Self.ownedDatabase("CREATEROLE")
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }
        let error = try #require(throws: ApplicationRole.OwnerBoundByPolicies.self) { try Migrator().migrate(on: connection) }
        #expect(error.description.contains(#"ALTER ROLE "\#(owner)" BYPASSRLS;"#))
        #expect(try connection.query("SELECT to_regclass('events') IS NULL").first!.decode(Bool.self, at: 0))

        let admin = try PostgresConnection(conninfo.replacingOccurrences(of: "user=\(owner) ", with: "user=ehcp "))
        defer { admin.close() }
        try admin.execute("ALTER ROLE \(owner) BYPASSRLS")
        // Nothing was applied before the attribute.
        #expect(try Migrator().migrate(on: connection) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    }

    @Test("a database behind this build, reached only by the service's login, is refused with the variable to set")
    func staleSchemaAsLogin() throws {
        let database = try TestDatabase.make()
        let owner = try database.connect()
        defer { owner.close() }
        try owner.execute("DELETE FROM schema_migrations WHERE version = 15")
        let service = try PostgresConnection(database.serviceConninfo)
        defer { service.close() }
        let error = try #require(throws: Migrator.NotOwner.self) { try Migrator().migrate(on: service) }
        #expect(error.description.contains("at version 14 and this build needs version 15"))
        #expect(error.description.contains("DATABASE_OWNER_URL"))
        // A schema a newer build has taken further is used as it is (schemas only grow).
        try owner.execute("INSERT INTO schema_migrations (version, description) VALUES (15, 'fifteen'), (16, 'a later build')")
        #expect(try Migrator().migrate(on: service) == [])
    }

    @Test("on a cluster without the application role, an owner that may not create it is told the statement, and nothing is half-made")
    func ownerWithoutCreateRole() throws {
        let cluster = try PrivateCluster()
        defer { cluster.remove() }
        let (owner, conninfo) = try Self.ownedDatabase("BYPASSRLS", cluster: cluster.conninfo)
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }

        let error = try #require(throws: ApplicationRole.Unavailable.self) { try Migrator().migrate(on: connection) }
        #expect(error.description.contains("CREATE ROLE ehcp_app NOLOGIN;"))
        #expect(try connection.query("SELECT to_regclass('events') IS NULL").first!.decode(Bool.self, at: 0))

        let admin = try PostgresConnection(conninfo.replacingOccurrences(of: "user=\(owner) ", with: "user=ehcp "))
        defer { admin.close() }
        try admin.execute("CREATE ROLE ehcp_app NOLOGIN")
        #expect(try Migrator().migrate(on: connection) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
    }

    @Test("as the service's login, RESET ROLE gains nothing: events stay unchangeable and other councils unreadable")
    func loginCannotEscape() async throws {
        let database = try TestDatabase.make()
        let (councilA, councilB) = (try database.addCouncil(code: "A"), try database.addCouncil(code: "B"))
        let pool = try database.pool()
        defer { pool.shutdown() }
        for council in [councilA, councilB] {
            _ = try await pool.transaction(council: council) {
                try EventStore().append(council: council, caseId: UUID(), expectedVersion: 0, events: [SchemaTests.event], on: $0)
            }
        }
        let service = try PostgresConnection(database.serviceConninfo)
        defer { service.close() }
        try ApplicationRole.assume(service)
        try service.execute("RESET ROLE")
        #expect(
            try service.query("SELECT session_user::text, current_user::text").first.map {
                [try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1)]
            } == [ApplicationRole.embeddedLogin, ApplicationRole.embeddedLogin])
        try service.query("SELECT set_config('ehcp.council_id', $1, false)", [councilA])

        #expect(try service.query("SELECT council_id FROM events").rows.map { try $0.decode(UUID.self, at: 0) } == [councilA])
        #expect(try service.query("SELECT count(*) FROM events WHERE council_id = $1", [councilB]).first!.decode(Int.self, at: 0) == 0)
        for statement in [
            "UPDATE events SET actor = 'forger'", "DELETE FROM events", "SET ROLE ehcp", "ALTER TABLE events DISABLE ROW LEVEL SECURITY",
            "SELECT * FROM api_tokens", "UPDATE users SET role = 'admin'",
        ] {
            #expect(Self.sqlState { try service.execute(statement) } == "42501", "\(statement)")
        }
        // Turning row security off makes a query that policies would filter fail, not see everything.
        try service.execute("SET row_security = off")
        #expect(Self.sqlState { try service.execute("SELECT count(*) FROM events") } == "42501")
    }
}
