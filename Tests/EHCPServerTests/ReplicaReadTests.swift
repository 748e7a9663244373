import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

/// Reports read from a hot standby (`ehcp serve --replica-url`), so that managers' reading never slows
/// caseworkers' writing; each response says how current its data was, and a standby too far behind, or
/// gone, is passed over for the primary.
@Suite("Reports from a standby")
struct ReplicaReadTests {
    @Test("reports read from the standby say how current they are; further behind than allowed, or gone, and the primary answers")
    func replicaReads() async throws {
        let primary = try PrivateCluster()
        defer { primary.remove() }
        let database = try TestDatabase.make(cluster: primary.conninfo)
        let standby = try primary.standby()
        defer { standby.remove() }
        let single = "host=\(primary.socketDirectory.path) port=\(primary.port)"
        let onStandby = database.serviceConninfo.replacingOccurrences(
            of: single, with: "host=\(standby.socketDirectory.path) port=\(standby.port)")
        let harness = try APIHarness(database: database) {
            $0.replicaConninfo = onStandby
            $0.settings.replicaMaxLag = .seconds(60)
        }
        let (primaryAdmin, standbyAdmin) = (try PostgresConnection(primary.conninfo), try PostgresConnection(standby.conninfo))
        defer { primaryAdmin.close() }
        /// Polls, as `pg_ctl -w` does, until the standby has replayed all the primary has written.
        @Sendable func caughtUp() async throws {
            let target = try primaryAdmin.query("SELECT pg_current_wal_lsn()::text").first!.decode(String.self, at: 0)
            for _ in 0..<400 {
                if try standbyAdmin.query("SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", [target]).first!.decode(Bool.self, at: 0) { return }
                try await Task.sleep(for: .milliseconds(25))  // polling, without holding a cooperative thread
            }
            Issue.record("the standby did not catch up")
        }
        let header = "X-Data-As-Of"
        try await harness.run { client in
            _ = try await client.openCase(forename: "One")
            try await caughtUp()
            let before = Date()
            let current = try await client.send(.get, "/v1/reports/caseload", as: "Meg")
            let after = Date()
            #expect(current.status == 200 && current["requestsReceived"] == .number(1))
            let asOf = try Date(try #require(current.headers[.init(header)!]), strategy: .iso8601)
            // Caught up, the standby's data is as of the read itself (a second either side for rounding).
            #expect(asOf >= before.addingTimeInterval(-1) && asOf <= after.addingTimeInterval(1), "\(asOf) not between \(before) and \(after)")
            // Cases are the primary's: a case page carries no freshness line.
            #expect(try await client.send(.get, "/v1/work-tray", as: "Ann").headers[.init(header)!] == nil)

            // The standby stops replaying. A case opened now is not in what it reads while it is within
            // the 60 seconds allowed, and the response says how old its data is.
            _ = try standbyAdmin.query("SELECT pg_wal_replay_pause()")
            _ = try await client.openCase(forename: "Two")
            let behind = try await client.send(.get, "/v1/reports/caseload", as: "Meg")
            #expect(behind["requestsReceived"] == .number(1))
            let behindAsOf = try Date(try #require(behind.headers[.init(header)!]), strategy: .iso8601)
            #expect(behindAsOf <= Date())

            // Search and the access log read the standby too. A search is a read of children's names,
            // so its access-log entry is written on the primary before the page is returned.
            let owner = try PostgresConnection(database.conninfo)
            defer { owner.close() }
            let logged = { @Sendable in
                try owner.query("SELECT count(*) FROM access_log WHERE action = 'listCases'").first!.decode(Int.self, at: 0)
            }
            let loggedBefore = try logged()
            // Both children are Lovelaces; the standby knows only the first.
            let search = try await client.send(.get, "/v1/cases?q=Lovelace", as: "Ann")
            #expect(search.status == 200 && search.array("cases").count == 1 && search.headers[.init(header)!] != nil)
            #expect(try logged() == loggedBefore + 1)
            let accessLog = try await client.send(.get, "/v1/access-log?limit=1000", as: "Aud")
            #expect(accessLog.status == 200 && accessLog.headers[.init(header)!] != nil)
            let onPrimary = try owner.query("SELECT count(*) FROM access_log").first!.decode(Int.self, at: 0)
            #expect(accessLog.array("entries").count < onPrimary, "the standby's log lacks what the primary wrote since the pause")

            // Further behind than allowed (here 1 ms, where the service allows 60 s), the primary answers.
            let replicaPool = try PostgresPool(.init(conninfo: onStandby, size: 1, onConnect: ApplicationRole.assume))
            let primaryPool = try database.pool(size: 1)
            defer { (replicaPool.shutdown(), primaryPool.shutdown()) }
            let cases = { @Sendable (maxLag: Duration) in
                try await ReplicaReads(replica: replicaPool, maxLag: maxLag).read(council: harness.councilA, primary: primaryPool) {
                    try $0.query("SELECT count(*) FROM case_summary").first!.decode(Int.self, at: 0)
                }
            }
            #expect(try await cases(.seconds(60)) == 1)
            #expect(try await cases(.milliseconds(1)) == 2)

            // Replaying again, it serves the reports again, with both cases.
            _ = try standbyAdmin.query("SELECT pg_wal_replay_resume()")
            try await caughtUp()
            let again = try await client.send(.get, "/v1/reports/caseload", as: "Meg")
            #expect(again["requestsReceived"] == .number(2) && again.headers[.init(header)!] != nil)
            // What an operator's alert watches: the lag as the last read found it, and who served reads.
            let metrics = try await client.send(.get, "/metrics", as: nil).text
            #expect(metrics.contains("ehcp_replica_lag_seconds "), "\(metrics)")
            #expect(metrics.contains(#"ehcp_replica_reads_total{served_by="standby"}"#))

            // The standby dies: reports come from the primary, without an error.
            standbyAdmin.close()
            try standby.killNine()
            let withoutStandby = try await client.send(.get, "/v1/reports/caseload", as: "Meg")
            #expect(withoutStandby.status == 200 && withoutStandby["requestsReceived"] == .number(2))
            #expect(withoutStandby.headers[.init(header)!] == nil)
        }
    }
}
