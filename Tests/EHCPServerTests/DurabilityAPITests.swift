import EHCPDomain
import Foundation
import Synchronization
import TestSupport
import Testing

/// "Accepted data is never lost": a 201 is sent only after its transaction has committed, and a commit
/// is durable (PostgreSQL's defaults, which the embedded database keeps).
@Suite("Durability: kill -9 of the database")
struct DurabilityAPITests {
    /// One reassignment as its client saw it: acknowledged at `version`, or cut off without an answer.
    struct Attempt: Sendable {
        var caseId: String
        var caseworker: String
        var key: String
        var version: Int?
        var body: String { #"{"caseworker":"\#(caseworker)","team":"North"}"# }

        /// Sends the reassignment as a manager, with its key: first time or retried, the same request.
        func send(_ client: Client) async throws -> Client.Reply {
            try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: body, as: "Meg", headers: ["Idempotency-Key": key])
        }
    }

    final class Acknowledged: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test(
        "PostgreSQL killed with SIGKILL under concurrent writes: every acknowledged event survives recovery with its projections, and a cut-off request retried with its Idempotency-Key is recorded exactly once"
    )
    func killNineLosesNoAcknowledgedWrite() async throws {
        let cluster = try PrivateCluster()
        defer { cluster.remove() }
        let harness = try APIHarness(database: try TestDatabase.make(cluster: cluster.conninfo))
        try await harness.run { client in
            var cases: [String] = []
            for n in 0..<12 { cases.append(try await client.openCase(forename: "Crash\(n)")) }
            let acknowledged = Acknowledged()
            let killAt = 150
            let caseIds = cases

            // Eight managers reassign cases (two may race on one) until the database dies under them.
            let attempts = try await withThrowingTaskGroup(of: [Attempt].self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        var mine: [Attempt] = []
                        for n in 0..<10_000 {
                            var attempt = Attempt(
                                caseId: caseIds[(writer * 5 + n) % caseIds.count], caseworker: "cw-\(writer)-\(n)", key: "crash-\(writer)-\(n)")
                            let reply = try await attempt.send(client)
                            if reply.status == 201 {
                                attempt.version = Int(reply.headers[.eTag]?.filter(\.isNumber) ?? "")
                                mine.append(attempt)
                                if acknowledged.count.add(1, ordering: .relaxed).newValue == killAt { try cluster.killNine() }
                            } else {
                                // Only the crash may refuse a request, and it says the database is unavailable.
                                #expect(reply.status == 503 && reply.string("code") == "unavailable", "\(reply.text)")
                                mine.append(attempt)
                                return mine
                            }
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Attempt]()) { $0 += $1 }
            }
            let acked = attempts.filter { $0.version != nil }
            let cutOff = attempts.filter { $0.version == nil }
            #expect(acked.count >= killAt)
            #expect(cutOff.count == 8)

            try cluster.start()  // crash recovery

            let owner = try harness.database.connect()
            defer { owner.close() }
            func recorded() throws -> [String: [Int: String]] {
                var byCase: [String: [Int: String]] = [:]
                for row in try owner.query("SELECT case_id::text, version, coalesce(data->>'caseworker', '') FROM events") {
                    byCase[try row.decode(String.self, at: 0), default: [:]][try row.decode(Int.self, at: 1)] = try row.decode(String.self, at: 2)
                }
                return byCase
            }
            let afterCrash = try recorded()
            for attempt in acked {
                #expect(
                    afterCrash[attempt.caseId]?[attempt.version!] == attempt.caseworker, "acknowledged \(attempt.key) at version \(attempt.version!)")
            }

            // A client that got no answer retries with the same key: replayed if it had committed, recorded now if not.
            for attempt in cutOff {
                let retry = try await attempt.send(client)
                #expect(retry.status == 201, "\(retry.text)")
            }
            let final = try recorded()
            let names = final.values.flatMap(\.values)
            for attempt in attempts {
                #expect(names.filter { $0 == attempt.caseworker }.count == 1, "\(attempt.key) recorded once")
            }

            // Each case: versions 1…n without a gap, the stream head at n, the summary showing the last assignment.
            let heads = try owner.query(
                "SELECT s.case_id::text, s.version, c.version, c.caseworker FROM case_streams s JOIN case_summary c USING (case_id)")
            #expect(heads.count == caseIds.count)
            for row in heads {
                let caseId = try row.decode(String.self, at: 0)
                let versions = final[caseId] ?? [:]
                let head = try row.decode(Int.self, at: 1)
                #expect(versions.keys.sorted() == Array(1...head))
                #expect(try row.decode(Int.self, at: 2) == head)
                #expect(try row.decode(String.self, at: 3) == versions[head])
            }
        }
    }
}
