import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

/// What a council's DBA provisions: a database owned by an ordinary login role, not a superuser.
@Suite("The application role under an ordinary database owner")
struct ApplicationRoleTests {
    /// A new login role owning a new, empty database (in `cluster`, else the shared one); its conninfo.
    static func ownedDatabase(createRole: Bool, cluster conninfo: String? = nil) throws -> (owner: String, conninfo: String) {
        let cluster = try TestDatabase.make(migrate: false, cluster: conninfo)
        let admin = try cluster.connect()
        defer { admin.close() }
        try admin.execute("DO $$ BEGIN CREATE ROLE ehcp_app NOLOGIN; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
        let owner = "owner_" + UUID().uuidString.prefix(8).lowercased()
        try admin.execute("CREATE ROLE \(owner) LOGIN\(createRole ? " CREATEROLE" : "")")
        try admin.execute("ALTER DATABASE \(cluster.name) OWNER TO \(owner)")
        try admin.execute("ALTER SCHEMA public OWNER TO \(owner)")
        return (owner, cluster.conninfo.replacingOccurrences(of: "user=ehcp", with: "user=\(owner)"))
    }

    @Test("an owner allowed to manage roles migrates, and its sessions run as the application role")
    func ownerWithCreateRole() throws {
        let (_, conninfo) = try Self.ownedDatabase(createRole: true)
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }
        try Migrator().migrate(on: connection)
        try ApplicationRole.assume(connection)
        #expect(try connection.query("SELECT current_user::text").first!.decode(String.self, at: 0) == ApplicationRole.name)
        #expect(try connection.query("SELECT count(*) FROM case_summary").first!.decode(Int.self, at: 0) == 0)
    }

    @Test("an owner that may not switch to the application role is told the one GRANT a superuser must run; after it, all works")
    func ownerWithoutMembership() throws {
        let (owner, conninfo) = try Self.ownedDatabase(createRole: false)
        let connection = try PostgresConnection(conninfo)
        defer { connection.close() }
        // The role exists in the cluster, but this owner is not a member.
        let error = try #require(throws: ApplicationRole.Unavailable.self) { try Migrator().migrate(on: connection) }
        #expect(error.description.contains(#"GRANT ehcp_app TO "\#(owner)";"#))
        #expect(!error.description.contains("CREATE ROLE"))
        #expect(throws: PostgresError.self) { try ApplicationRole.assume(connection) }

        let admin = try PostgresConnection(conninfo.replacingOccurrences(of: "user=\(owner)", with: "user=ehcp"))
        defer { admin.close() }
        try admin.execute("GRANT ehcp_app TO \(owner)")
        #expect(try Migrator().migrate(on: connection) == [])  // the schema was applied the first time; only the role was missing
        try ApplicationRole.assume(connection)
        #expect(try connection.query("SELECT count(*) FROM events").first!.decode(Int.self, at: 0) == 0)
    }

    @Test("on a cluster without the application role, an owner that may not create it is told both statements, and nothing is half-made")
    func ownerWithoutCreateRole() throws {
        let cluster = try PrivateCluster()
        defer { cluster.remove() }
        let database = try TestDatabase.make(migrate: false, cluster: cluster.conninfo)
        let admin = try database.connect()
        defer { admin.close() }
        let owner = "owner_" + UUID().uuidString.prefix(8).lowercased()
        try admin.execute("CREATE ROLE \(owner) LOGIN")
        try admin.execute("ALTER DATABASE \(database.name) OWNER TO \(owner); ALTER SCHEMA public OWNER TO \(owner)")
        let connection = try PostgresConnection(database.conninfo.replacingOccurrences(of: "user=ehcp", with: "user=\(owner)"))
        defer { connection.close() }

        let error = try #require(throws: ApplicationRole.Unavailable.self) { try Migrator().migrate(on: connection) }
        #expect(error.description.contains(#"CREATE ROLE ehcp_app NOLOGIN; GRANT ehcp_app TO "\#(owner)";"#))
        #expect(try admin.query("SELECT to_regclass('events') IS NULL").first!.decode(Bool.self, at: 0))

        try admin.execute("CREATE ROLE ehcp_app NOLOGIN; GRANT ehcp_app TO \(owner)")
        #expect(try Migrator().migrate(on: connection) == [1, 2, 3, 4])
        try ApplicationRole.assume(connection)
        #expect(try connection.query("SELECT count(*) FROM events").first!.decode(Int.self, at: 0) == 0)
    }
}
