import ArgumentParser
import EHCPAPI
import EHCPCommandLine
import EHCPDomain
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp-bench api`: the real server on loopback, 16 clients logging events to 10,000 demo cases over
/// keep-alive HTTP, beside raw single-row INSERTs through a pool of the same size, in the same run.
struct APIBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "api", abstract: "HTTP event logging throughput and latency against raw INSERT.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Cases to spread the events over (demo cases are generated when there are fewer).")
    var cases = 10_000

    @Option(help: "Concurrent HTTP clients.")
    var clients = 16

    @Option(help: "Events each measurement logs in total.")
    var events = 8_000

    @Option(help: "Database connections in the server's pool (and the baseline's).")
    var connections = 8

    @Option(help: "Loopback port for the server.")
    var port = 18_080

    func run() async throws {
        let logger = Logger(label: "ehcp.bench")
        let resolved = try database.openMigrated(logger: logger)
        defer { resolved.close() }
        let (caseIds, token, council) = try await prepare(conninfo: resolved.owner)
        let pool = try PostgresPool(.init(conninfo: resolved.service, size: connections, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        var quiet = Logger(label: "ehcp.bench.server")
        quiet.logLevel = .warning  // per-request access logs would measure the terminal, not the server
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let today = LondonClock.today()
        let api = APIDependencies(pool: pool, repository: CaseRepository(decider: CaseDecider(engine: engine)), today: { today })
        let (listening, ready) = AsyncStream<Void>.makeStream()
        let app = buildApplication(ServerConfiguration(host: "127.0.0.1", port: port), api: api, logger: quiet) { ready.yield() }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        for await _ in listening { break }

        print("api benchmark: \(caseIds.count) cases, \(clients) clients, \(events) events per measurement, \(connections) connections")
        let meter = CPUMeter(dataDirectory: resolved.embedded?.dataDirectory)
        // First the server as it is just after a start, before it holds any case's state: each request reads
        // and folds its case's whole history. Then as it runs once it holds them (ehcp serve reads them in
        // the background at start, `holdOpenCases`; the first pass has also held the cases it wrote).
        let cold = try await meter.measure { try await measureHTTP(caseIds: caseIds, token: token, today: today) }
        let warming = ContinuousClock.now
        let held = try await api.writer.holdOpenCases()
        let warmed = (ContinuousClock.now - warming).seconds
        let before = api.writer.totals
        let http = try await meter.measure { try await measureHTTP(caseIds: caseIds, token: token, today: today) }
        let after = api.writer.totals
        let floor = try await meter.measure { try await measureHealthz() }
        let batched = try await meter.measure { try await measureWriter(api: api, council: council, caseIds: caseIds, today: today) }
        let direct = try await meter.measure { try await measureRepository(api: api, council: council, caseIds: caseIds, today: today) }
        let raw = try await meter.measure { try await measureRaw(pool: pool, owner: resolved.owner, council: council, caseIds: caseIds) }
        print("                                          events/s    p50 ms    p99 ms   CPU ms/event: ehcp  PostgreSQL")
        for (name, result) in [
            ("HTTP log event (case states held)", http), ("HTTP log event, just after a start", cold), ("HTTP floor: GET /healthz", floor),
            ("batch writer, no HTTP", batched), ("one transaction per event", direct), ("raw INSERT", raw),
        ] {
            let count = Double(events / clients * clients)
            print(
                name.padding(toLength: 40, withPad: " ", startingAt: 0), format(result.rate, 0).leftPad(10),
                format(result.samples.percentile(0.5) / 1e6, 2).leftPad(9), format(result.samples.percentile(0.99) / 1e6, 2).leftPad(9),
                format(1000 * result.cpu.process / count, 3).leftPad(19),
                (result.cpu.database.map { format(1000 * $0 / count, 3) } ?? "n/a").leftPad(11))
        }
        print("just after a start: no case state held yet, each request reads and folds its case's whole history;")
        print("  then \(held) open cases' states read ahead in \(format(warmed, 1)) s, as ehcp serve does in the background at start")
        let batches = after.batches - before.batches
        print(
            "HTTP: \(after.commands - before.commands) events in \(batches) batches, \(format(Double(after.commands - before.commands) / Double(max(batches, 1)), 1)) a commit"
        )
        let met = http.rate >= 2_000 && http.samples.percentile(0.99) < 50e6
        print(
            "HTTP / raw: \(format(100 * http.rate / raw.rate, 0))%; target (at least 2,000 events/s with p99 under 50 ms, states held): \(met ? "met" : "not met")"
        )
        print("(CPU ms/event includes the benchmark's own clients; it varies less between runs than events/s does.)")
    }

    /// Ensures the demo council has `cases` cases and a manager token (managers may log CaseworkerAssigned,
    /// which is valid on any open case, so every request does the full decide-append-project path).
    private func prepare(conninfo: String) async throws -> ([UUID], String, UUID) {
        let owner = try PostgresConnection(conninfo)
        defer { owner.close() }
        let council = try DemoSeeder.council(0, on: owner)
        let existing = try owner.query("SELECT count(*) FROM case_summary WHERE council_id = $1", [council]).first!.decode(Int.self, at: 0)
        if existing < cases {
            print("seeding \(cases - existing) demo cases…")
            try await DemoSeeder(conninfo: conninfo, seed: UInt64.random(in: 1...UInt64.max), asOf: LondonClock.today(), councils: 1)
                .seed(cases: cases - existing, progress: false)
        }
        // A freshly loaded database as it is in service once autovacuum has been by: hint bits set and the
        // visibility map written, so the measurement pays neither, nor competes with autovacuum doing it.
        try owner.execute("VACUUM ANALYZE")
        let ids = try owner.query(
            "SELECT case_id FROM case_summary WHERE council_id = $1 AND stage NOT IN ('withdrawn', 'transferredOut') ORDER BY case_id LIMIT $2",
            [council, cases]
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        let directory = UserDirectory()
        let manager = try directory.addUser(name: "bench-manager", role: .manager, team: "North", council: council, on: owner)
        return (ids, try directory.createToken(userId: manager, label: "bench", validFor: 1, on: owner), council)
    }

    private func measureHTTP(caseIds: [UUID], token: String, today: CivilDate) async throws -> (rate: Double, samples: Samples) {
        let perClient = events / clients
        let (clients, port) = (clients, port)
        let started = ContinuousClock.now
        let results = try await onThreads(clients) { client in
            let http = try LoopbackHTTPClient(port: port)
            var samples = Samples()
            for n in 0..<perClient {
                let caseId = caseIds[(n * clients + client) % caseIds.count].uuidString.lowercased()
                let body = #"{"type":"CaseworkerAssigned","occurredOn":"\#(today)","data":{"caseworker":"Bench \#(client)","team":"North"}}"#
                let begin = ContinuousClock.now
                let reply = try http.send(
                    method: "POST", path: "/v1/cases/\(caseId)/events",
                    headers: ["Authorization": "Bearer \(token)", "Content-Type": "application/json"], body: body)
                samples.record(ContinuousClock.now - begin)
                guard reply.status == 201 else { throw LoopbackHTTPClient.Failure(description: "HTTP \(reply.status): \(reply.body)") }
            }
            return samples
        }
        let seconds = (ContinuousClock.now - started).seconds
        return (Double(perClient * clients) / seconds, results.reduce(into: Samples()) { $0.merge($1) })
    }

    /// The same clients and server answering `GET /healthz` (no database, no JSON): what HTTP alone
    /// costs on this machine, the floor under any endpoint.
    private func measureHealthz() async throws -> (rate: Double, samples: Samples) {
        let (perClient, clients, port) = (events / clients, clients, port)
        let started = ContinuousClock.now
        let results = try await onThreads(clients) { _ in
            let http = try LoopbackHTTPClient(port: port)
            var samples = Samples()
            for _ in 0..<perClient {
                let begin = ContinuousClock.now
                let reply = try http.send(method: "GET", path: "/healthz", headers: [:], body: "")
                samples.record(ContinuousClock.now - begin)
                guard reply.status == 200 else { throw LoopbackHTTPClient.Failure(description: "HTTP \(reply.status): \(reply.body)") }
            }
            return samples
        }
        return (Double(perClient * clients) / (ContinuousClock.now - started).seconds, results.reduce(into: Samples()) { $0.merge($1) })
    }

    /// The same command through the batch writer the server uses, without HTTP: what HTTP, JSON and
    /// authentication add.
    private func measureWriter(api: APIDependencies, council: UUID, caseIds: [UUID], today: CivilDate) async throws -> (
        rate: Double, samples: Samples
    ) {
        try await concurrently { client, n, clients in
            let command = LogEvent(
                .caseworkerAssigned(CaseworkerAssigned(caseworker: "Batch \(client)", team: "North")), on: today, by: "bench", today: today)
            _ = try await api.writer.record(
                CaseCommand(council: council, caseId: caseIds[(n * clients + client + 3) % caseIds.count], command: command))
        }
    }

    /// The same command through `CaseRepository`, one transaction (and one commit) per event: what batching gains.
    private func measureRepository(api: APIDependencies, council: UUID, caseIds: [UUID], today: CivilDate) async throws -> (
        rate: Double, samples: Samples
    ) {
        try await concurrently { client, n, clients in
            let command = LogEvent(
                .caseworkerAssigned(CaseworkerAssigned(caseworker: "Direct \(client)", team: "North")), on: today, by: "bench", today: today)
            _ = try await api.repository.record(
                CaseCommand(council: council, caseId: caseIds[(n * clients + client + 7) % caseIds.count], command: command), requireExisting: true,
                pool: api.pool)
        }
    }

    /// The baseline: one single-row INSERT of the same event per request, same number of concurrent writers.
    private func measureRaw(pool: PostgresPool, owner conninfo: String, council: UUID, caseIds: [UUID]) async throws -> (
        rate: Double, samples: Samples
    ) {
        let owner = try PostgresConnection(conninfo)
        try owner.execute("DROP TABLE IF EXISTS bench_api_raw_events")
        try owner.execute("CREATE TABLE bench_api_raw_events (LIKE events INCLUDING ALL)")
        try owner.execute("GRANT INSERT ON bench_api_raw_events TO ehcp_app")
        owner.close()
        return try await concurrently { client, n, clients in
            _ = try await pool.withConnection { connection in
                try connection.query(
                    "INSERT INTO bench_api_raw_events (council_id, case_id, version, type, data, occurred_on, actor) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
                    [
                        council, caseIds[(n * clients + client) % caseIds.count], n + 2, "CaseworkerAssigned", #"{"caseworker":"bench"}"#,
                        "2025-03-03", "bench",
                    ])
            }
        }
    }

    /// Runs `operation(client, n, clients)` `events / clients` times in each of `clients` tasks; returns the rate and latencies.
    private func concurrently(_ operation: @escaping @Sendable (Int, Int, Int) async throws -> Void) async throws -> (rate: Double, samples: Samples)
    {
        let (perClient, clients) = (events / clients, clients)
        let started = ContinuousClock.now
        let samples = try await withThrowingTaskGroup(of: Samples.self) { group in
            for client in 0..<clients {
                group.addTask {
                    var samples = Samples()
                    for n in 0..<perClient {
                        let begin = ContinuousClock.now
                        try await operation(client, n, clients)
                        samples.record(ContinuousClock.now - begin)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: Samples()) { $0.merge($1) }
        }
        return (Double(perClient * clients) / (ContinuousClock.now - started).seconds, samples)
    }
}
