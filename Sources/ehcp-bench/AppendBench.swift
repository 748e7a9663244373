import ArgumentParser
import EHCPCommandLine
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp-bench append`: events/s and latency for 1, 4 and 16 writers appending through the event store
/// to 10,000 cases, beside a raw single-row INSERT into an identically shaped table, same pool, same run.
struct AppendBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "append", abstract: "Event store append throughput against raw INSERT.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Cases to spread the appends over.")
    var cases = 10_000

    @Option(help: "Events appended per measurement (each writer count, each of store and raw).")
    var events = 6_000

    @Option(parsing: .upToNextOption, help: "Writer counts to measure.")
    var writers: [Int] = [1, 4, 16]

    func run() async throws {
        let logger = Logger(label: "ehcp.bench")
        let resolved = try database.openMigrated(logger: logger)
        defer { resolved.close() }
        let owner = try database.connect(resolved.owner)
        let council = UUID()
        try owner.query(
            "INSERT INTO councils (council_id, code, name) VALUES ($1, $2, 'Benchmark council')", [council, "BENCH-\(council.uuidString.prefix(8))"])
        try owner.execute("CREATE TABLE IF NOT EXISTS bench_raw_events (LIKE events INCLUDING ALL)")
        owner.close()
        let pool = try PostgresPool(.init(conninfo: resolved.owner, size: max(writers.max() ?? 16, 1)))
        defer { pool.shutdown() }
        print("append benchmark: \(cases) cases, \(events) events per measurement, pool of \(pool.configuration.size)")
        print("writers   store ev/s   p50 ms   p99 ms  |  raw INSERT ev/s   p50 ms   p99 ms  |  store/raw")
        for writerCount in writers {
            let caseIds = (0..<cases).map { _ in UUID() }
            try await seed(caseIds, council: council, pool: pool)
            let raw = try await measure(writers: writerCount) { writer, n in
                let caseId = caseIds[(n * writerCount + writer) % caseIds.count]
                _ = try await pool.withConnection { connection in
                    try connection.query(
                        "INSERT INTO bench_raw_events (council_id, case_id, version, type, data, occurred_on, actor) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7)",
                        [council, caseId, n + 2, "CaseworkerAssigned", #"{"caseworker":"bench"}"#, "2025-03-03", "bench"])
                }
            }
            let store = EventStore()
            let stored = try await measure(writers: writerCount) { writer, n in
                // Each writer owns the cases with index ≡ writer (mod writers), so it knows their versions.
                let owned = (caseIds.count - writer + writerCount - 1) / writerCount
                let slot = n % owned
                let caseId = caseIds[slot * writerCount + writer]
                let version = 1 + n / owned
                // No projections ride along here, so the append runs as its own one-statement transaction.
                _ = try await pool.withConnection { connection in
                    try store.append(
                        council: council, caseId: caseId, expectedVersion: version,
                        events: [NewEvent(type: "CaseworkerAssigned", data: #"{"caseworker":"bench"}"#, occurredOn: "2025-03-03", actor: "bench")],
                        on: connection)
                }
            }
            print(
                [
                    "\(writerCount)".padding(toLength: 7, withPad: " ", startingAt: 0),
                    format(stored.rate, 0).leftPad(12), format(stored.samples.percentile(0.5) / 1e6, 2).leftPad(8),
                    format(stored.samples.percentile(0.99) / 1e6, 2).leftPad(8), " | ",
                    format(raw.rate, 0).leftPad(16), format(raw.samples.percentile(0.5) / 1e6, 2).leftPad(8),
                    format(raw.samples.percentile(0.99) / 1e6, 2).leftPad(8), " | ", (format(100 * stored.rate / raw.rate, 0) + "%").leftPad(9),
                ].joined(separator: " "))
        }
    }

    /// Creates each case with one event, in bulk, so the measured appends extend existing streams.
    private func seed(_ caseIds: [UUID], council: UUID, pool: PostgresPool) async throws {
        let ids = PostgresArray(caseIds.map { $0.uuidString.lowercased() })
        _ = try await pool.transaction { connection in
            try connection.query(
                "INSERT INTO case_streams (case_id, council_id, version) SELECT id, $2, 1 FROM unnest($1::uuid[]) AS id", [ids, council])
            try connection.query(
                """
                INSERT INTO events (council_id, case_id, version, type, data, occurred_on, actor)
                SELECT $2, id, 1, 'RequestReceived', '{"requestSource":"parent"}', '2025-03-03', 'bench' FROM unnest($1::uuid[]) AS id
                """, [ids, council])
        }
    }

    private func measure(writers: Int, _ operation: @escaping @Sendable (Int, Int) async throws -> Void) async throws -> (
        rate: Double, samples: Samples
    ) {
        let perWriter = events / writers
        let start = ContinuousClock.now
        let samples = try await withThrowingTaskGroup(of: Samples.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var samples = Samples()
                    for n in 0..<perWriter {
                        let begin = ContinuousClock.now
                        try await operation(writer, n)
                        samples.record(ContinuousClock.now - begin)
                    }
                    return samples
                }
            }
            return try await group.reduce(into: Samples()) { $0.merge($1) }
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return (Double(perWriter * writers) / seconds, samples)
    }
}

extension String {
    func leftPad(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
