import EHCPDomain
import EHCPScheduler
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres
import Synchronization
import TestSupport
import Testing

/// The service through PgBouncer in transaction-pooling mode (`DATABASE_POOL_MODE=transaction`), Debian's
/// package, started by the test with fewer server sessions than the service has connections: no named
/// prepared statements, no session settings the pooler would not carry, and a LISTEN that notices it
/// hears nothing and falls back to polling.
@Suite("Through PgBouncer")
struct PgBouncerTests {
    @Test("writes, reads, reports and council isolation through transaction pooling; the login's settings are checked")
    func transactionPooling() async throws {
        let database = try TestDatabase.make()
        let owner = try database.connect()
        defer { owner.close() }
        // The throwaway cluster runs with synchronous_commit off; through a pooler the service cannot set
        // it per session, so it refuses, naming the fix.
        let refused = try PgBouncer(server: database.conninfo, serverConnections: 2)
        let refusal = #expect(throws: ApplicationRole.PooledSessionRefused.self) {
            let connection = try PostgresConnection(
                refused.conninfo(user: ApplicationRole.embeddedLogin, database: database.name), transactionPooled: true)
            defer { connection.close() }
            try ApplicationRole.assume(connection)
        }
        #expect(refusal?.description.contains("ALTER ROLE \"ehcp_service\" SET synchronous_commit = on;") == true)
        refused.stop()  // its server sessions began with the old setting
        try owner.execute("ALTER ROLE \(ApplicationRole.embeddedLogin) IN DATABASE \(database.name) SET synchronous_commit = on")
        // Server sessions that default to another time zone: timestamps must still read right, which they
        // do only if PgBouncer carries the client's `TimeZone` to each session it runs a transaction on.
        try owner.execute("ALTER DATABASE \(database.name) SET TimeZone = 'Pacific/Chatham'")
        let bouncer = try PgBouncer(server: database.conninfo, serverConnections: 2)
        defer { bouncer.stop() }
        let pooled = bouncer.conninfo(user: ApplicationRole.embeddedLogin, database: database.name)

        let harness = try APIHarness(database: database) {
            $0.conninfo = pooled
            $0.transactionPooled = true
            $0.connections = 6
        }
        let started = Date()
        try await harness.run { client in
            // Cases opened and events logged at once, from more connections than PgBouncer has sessions,
            // through the batch writer's pipelines.
            let cases = try await withThrowingTaskGroup(of: String.self) { group in
                for n in 0..<8 { group.addTask { try await client.openCase(forename: "Child\(n)") } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for caseId in cases {
                    for (n, day) in ["2025-03-04", "2025-03-05", "2025-03-06"].enumerated() {
                        group.addTask {
                            try await client.log(
                                caseId, "CaseworkerAssigned", on: day, data: #"{"caseworker":"\#(n % 2 == 0 ? "Ann" : "Ben")","team":"North"}"#,
                                as: "Meg"
                            ).status
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.count == 24 && statuses.allSatisfy { $0 == 201 }, "\(statuses)")
            let stored = try owner.query("SELECT count(*) FROM events").first!.decode(Int.self, at: 0)
            #expect(stored == 8 + 24)

            // A retried request with its Idempotency-Key is stored once.
            let key = UUID().uuidString
            for _ in 0..<2 {
                let reply = try await client.log(
                    cases[0], "CaseworkerAssigned", on: "2025-03-07", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg",
                    headers: ["Idempotency-Key": key])
                #expect(reply.status == 201)
            }
            #expect(try owner.query("SELECT count(*) FROM events").first!.decode(Int.self, at: 0) == stored + 1)

            // Timestamps read as the moment they are, whichever session ran the read.
            for caseId in cases {
                let timeline = try await client.send(.get, "/v1/cases/\(caseId)/timeline", as: "Ann")
                #expect(timeline.status == 200)
                for event in timeline.array("events") {
                    guard case .string(let text)? = event["recordedAt"], let at = try? Date(text, strategy: .iso8601) else {
                        Issue.record("no recordedAt in \(event)")
                        continue
                    }
                    #expect(abs(at.timeIntervalSince(started)) < 600, "recorded at \(text), the test started at \(started)")
                }
            }

            // Reads, search and reports, each council seeing only its own.
            #expect(try await client.send(.get, "/v1/cases/\(cases[0])", as: "Ann").status == 200)
            #expect(try await client.send(.get, "/v1/cases/\(cases[0])", as: "Bob").status == 404)
            #expect(try await client.send(.get, "/v1/cases?q=Lovelace&limit=200", as: "Ann").array("cases").count == 8)
            #expect(try await client.send(.get, "/v1/cases?q=Lovelace", as: "Bob").array("cases").isEmpty)
            let caseload = try await client.send(.get, "/v1/reports/caseload", as: "Meg")
            #expect(caseload.status == 200 && caseload["requestsReceived"] == .number(8))
            #expect(try await client.send(.get, "/v1/reports/breaches", as: "Meg").status == 200)
        }
    }

    @Test("the scheduler's LISTEN through PgBouncer hears nothing, says so, and polls; with a direct listening URL it is woken at once")
    func listeningThroughPgBouncer() async throws {
        for direct in [false, true] {
            let database = try TestDatabase.make()
            let bouncer = try PgBouncer(server: database.conninfo, serverConnections: 2)
            defer { bouncer.stop() }
            let owner = try database.connect()
            defer { owner.close() }
            try owner.execute("ALTER ROLE \(ApplicationRole.embeddedLogin) IN DATABASE \(database.name) SET synchronous_commit = on")
            let logs = CapturedLog()
            let harness = try APIHarness(database: database) {
                $0.conninfo = bouncer.conninfo(user: ApplicationRole.embeddedLogin, database: database.name)
                $0.transactionPooled = true
                $0.listenConninfo = direct ? database.serviceConninfo : nil
                $0.runsScheduler = true
                $0.sweepInterval = .seconds(3600)  // only a NOTIFY, or the fallback's polling, sweeps again
            } logger: {
                logs.logger
            }
            defer { harness.service.shutdown() }
            let scheduler = try #require(harness.service.scheduler)
            try await harness.run { client in
                let breached = { @Sendable (caseId: String) throws -> Bool in
                    try owner.query("SELECT count(*) FROM events WHERE case_id = $1::uuid AND type = 'DeadlineBreached'", [caseId]).first!
                        .decode(Int.self, at: 0) > 0
                }
                // A decision due weeks ago: the first sweep, at start, records its breach.
                let first = try await client.openCase(on: "2025-01-06", forename: "First")
                let running = Task { try await scheduler.run() }
                defer { running.cancel() }
                #expect(try await poll(within: 30) { try breached(first) })
                // Once the listener has found out whether it hears anything, another case as late is opened;
                // within the hour's interval only a wake-up, or the fallback's polling, can sweep it.
                #expect(try await poll(within: 30) { logs.contains("LISTEN hears nothing") || logs.contains("LISTEN ready") })
                #expect(logs.contains("LISTEN hears nothing") == !direct, "\(logs.lines)")
                let second = try await client.openCase(on: "2025-01-06", forename: "Second")
                #expect(
                    try await poll(within: 30) { try breached(second) }, direct ? "the NOTIFY did not wake the sweep" : "the fallback did not poll")
            }
        }
    }

    /// Polls `condition` every 100 ms (with `Task.sleep`, holding no thread) until it holds or `seconds` pass.
    private func poll(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try await condition()
    }
}

/// Log lines kept in memory, so a test can read what the service said.
final class CapturedLog: Sendable {
    private let kept = Mutex<[String]>([])
    var lines: [String] { kept.withLock { $0 } }
    func contains(_ text: String) -> Bool { lines.contains { $0.contains(text) } }

    var logger: Logger {
        Logger(label: "ehcp.test") { _ in Handler(log: self) }
    }

    struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(
            level: Logger.Level, message: Logger.Message, metadata: Logger.Metadata?, source: String, file: String, function: String, line: UInt
        ) {
            log.kept.withLock { $0.append(message.description) }
        }
    }
}
