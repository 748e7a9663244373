import EHCPDomain
import Foundation
import Postgres
import Synchronization
import TestSupport
import Testing

/// What happens when the database server dies, answered with PostgreSQL's own replication: a primary and
/// a hot standby made by `pg_basebackup`, synchronous replication on, and the service given both hosts
/// with `target_session_attrs=read-write` as libpq supports. The primary is killed with SIGKILL under
/// eight writers and the standby promoted; the service's pool finds the new primary by itself.
@Suite("Failover: the primary killed, the standby promoted")
struct FailoverTests {
    typealias Attempt = DurabilityAPITests.Attempt

    final class Progress: Sendable {
        let acknowledged = Atomic<Int>(0)
        /// Nanoseconds on the continuous clock when the primary died, and when a write next succeeded.
        let killedAt = Mutex<ContinuousClock.Instant?>(nil)
        let recoveredAt = Mutex<ContinuousClock.Instant?>(nil)
    }

    @Test(
        "writes resume on the promoted standby within 10 seconds, every acknowledged event is on it, and each cut-off request retried with its Idempotency-Key is stored once"
    )
    func primaryKilledStandbyPromoted() async throws {
        let primary = try PrivateCluster()
        defer { primary.remove() }
        let database = try TestDatabase.make(cluster: primary.conninfo)
        let standby = try primary.standby()
        defer { standby.remove() }
        // Synchronous replication: a commit is acknowledged only once the standby has it.
        let admin = try PostgresConnection(primary.conninfo)
        try admin.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
        _ = try admin.query("SELECT pg_reload_conf()")
        for _ in 0..<200 {  // polling for the standby to report itself synchronous, as pg_ctl -w polls
            if try admin.query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").first!.decode(Int.self, at: 0) == 1 { break }
            try await Task.sleep(for: .milliseconds(50))  // polling, without holding one of the two cooperative threads
        }
        #expect(try admin.query("SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'").first!.decode(Int.self, at: 0) == 1)
        admin.close()

        // Both hosts, the writable one wanted: what an operator puts in DATABASE_URL.
        let single = "host=\(primary.socketDirectory.path) port=\(primary.port)"
        #expect(database.serviceConninfo.contains(single))
        let both =
            database.serviceConninfo.replacingOccurrences(
                of: single, with: "host=\(primary.socketDirectory.path),\(standby.socketDirectory.path) port=\(primary.port),\(standby.port)")
            + " target_session_attrs=read-write connect_timeout=2"
        let harness = try APIHarness(database: database) { $0.conninfo = both }
        try await harness.run { client in
            var cases: [String] = []
            for n in 0..<12 { cases.append(try await client.openCase(forename: "Failover\(n)")) }
            let progress = Progress()
            let killAt = 120
            let caseIds = cases
            // Eight writers reassign cases. A request the failure cuts off is retried with its key, as a
            // client does, until the service answers; each writer stops at its first answer after the kill.
            let attempts = try await withThrowingTaskGroup(of: [Attempt].self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var mine: [Attempt] = []
                        for n in 0..<10_000 {
                            var attempt = Attempt(
                                caseId: caseIds[(writer * 5 + n) % caseIds.count], caseworker: "fo-\(writer)-\(n)", key: "failover-\(writer)-\(n)")
                            var cutOff = false
                            let deadline = ContinuousClock.now + .seconds(60)
                            var sentAfterKill = false
                            while attempt.version == nil && ContinuousClock.now < deadline {
                                // A request sent after the kill that succeeds is the service writing again; one
                                // sent before may have committed on the old primary and only answered later.
                                sentAfterKill = progress.killedAt.withLock { $0 } != nil
                                let reply = try await attempt.send(client)
                                if reply.status == 201 {
                                    attempt.version = Int(reply.headers[.eTag]?.filter(\.isNumber) ?? "")
                                } else {
                                    #expect(reply.status == 503 && reply.string("code") == "unavailable", "\(reply.text)")
                                    cutOff = true
                                    try await Task.sleep(for: .milliseconds(50))  // a client's pause before retrying
                                }
                            }
                            mine.append(attempt)
                            let now = ContinuousClock.now
                            _ = progress.acknowledged.add(1, ordering: .relaxed)
                            if sentAfterKill {
                                progress.recoveredAt.withLock { if $0 == nil { $0 = now } }
                                if cutOff || progress.recoveredAt.withLock({ $0 })! < now { return mine }
                            }
                        }
                        return mine
                    }
                }
                // The operator's side: once enough is written, the primary dies and the standby is promoted,
                // on a thread of its own (both calls block).
                group.addTask {
                    while progress.acknowledged.load(ordering: .relaxed) < killAt { try await Task.sleep(for: .milliseconds(5)) }
                    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                        Thread.detachNewThread {
                            do {
                                try primary.killNine()
                                progress.killedAt.withLock { $0 = .now }
                                let promote = try PostgresConnection(standby.conninfo)
                                defer { promote.close() }
                                _ = try promote.query("SELECT pg_promote(true, 30)")
                                done.resume()
                            } catch { done.resume(throwing: error) }
                        }
                    }
                    return []
                }
                return try await group.reduce(into: [Attempt]()) { $0 += $1 }
            }
            #expect(attempts.allSatisfy { $0.version != nil }, "every request was answered in the end")
            let killedAt = try #require(progress.killedAt.withLock { $0 })
            let recoveredAt = try #require(progress.recoveredAt.withLock { $0 })
            let outage = recoveredAt - killedAt
            #expect(outage < .seconds(10), "writes resumed \(outage) after the primary died")
            let acked = attempts

            // On the new primary: every acknowledged event, and every retried request once.
            let owner = try PostgresConnection(
                database.conninfo.replacingOccurrences(of: single, with: "host=\(standby.socketDirectory.path) port=\(standby.port)"))
            defer { owner.close() }
            #expect(try owner.query("SELECT pg_is_in_recovery()").first!.decode(Bool.self, at: 0) == false)
            var recorded: [String: [Int: String]] = [:]
            for row in try owner.query("SELECT case_id::text, version, coalesce(data->>'caseworker', '') FROM events") {
                recorded[try row.decode(String.self, at: 0), default: [:]][try row.decode(Int.self, at: 1)] = try row.decode(String.self, at: 2)
            }
            for attempt in acked {
                #expect(
                    recorded[attempt.caseId]?[attempt.version!] == attempt.caseworker, "acknowledged \(attempt.key) at version \(attempt.version!)")
            }
            let names = recorded.values.flatMap(\.values)
            for attempt in attempts {
                #expect(names.filter { $0 == attempt.caseworker }.count == 1, "\(attempt.key) recorded once")
            }
            print("failover: \(acked.count) writes acknowledged; writes resumed \(outage) after the primary died")
        }
    }
}
