import EHCPStore
import Postgres
import TestSupport
import Testing

@Suite("Durability settings")
struct DurabilitySettingsTests {
    @Test("the application's sessions commit synchronously even where the database turns it off, and keep a stronger setting")
    func synchronousCommit() throws {
        let database = try TestDatabase.make()
        let owner = try database.connect()
        defer { owner.close() }
        func setting(after databaseSetting: String) throws -> String {
            try owner.execute("ALTER DATABASE \(database.name) SET synchronous_commit = \(databaseSetting)")
            let connection = try PostgresConnection(database.serviceConninfo)
            defer { connection.close() }
            try ApplicationRole.assume(connection)
            return try connection.query("SHOW synchronous_commit").first!.decode(String.self, at: 0)
        }
        #expect(try setting(after: "off") == "on")
        #expect(try setting(after: "remote_apply") == "remote_apply")
        #expect(try setting(after: "local") == "local")
    }

    @Test("fsync and full_page_writes off are reported by name; the embedded database's defaults report nothing")
    func serverRisks() throws {
        // The throwaway test cluster trades both away for speed (scripts/with-test-postgres.sh).
        let database = try TestDatabase.make(migrate: false)
        let connection = try database.connect()
        defer { connection.close() }
        let risks = try DurabilityCheck.risks(on: connection)
        #expect(risks.count == 2)
        #expect(risks.contains { $0.contains("fsync = off") } && risks.contains { $0.contains("full_page_writes = off") })

        let embedded = try PrivateCluster()
        defer { embedded.remove() }
        let safe = try PostgresConnection(embedded.conninfo)
        defer { safe.close() }
        #expect(try DurabilityCheck.risks(on: safe) == [])
    }
}
