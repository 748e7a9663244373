import EHCPStore
import Foundation
import Logging
import Postgres
import TestSupport
import Testing

@Suite("Postgres pool")
struct PostgresPoolTests {
    @Test("when every connection is busy, a caller times out; once one is free, work proceeds")
    func exhaustion() async throws {
        let database = try TestDatabase.make(migrate: false)
        let pool = try database.pool(size: 2, asApplication: false, acquireTimeout: .milliseconds(300))
        defer { pool.shutdown() }
        let release = DispatchSemaphore(value: 0)
        let (started, startedContinuation) = AsyncStream<Void>.makeStream()
        let holders = (0..<2).map { _ in
            Task {
                try await pool.withConnection { connection in
                    startedContinuation.yield()
                    release.wait()  // hold the connection until the test lets go
                    return try connection.query("SELECT 1").count
                }
            }
        }
        var iterator = started.makeAsyncIterator()
        _ = await iterator.next()
        _ = await iterator.next()
        await #expect(throws: PostgresError.self) {
            try await pool.withConnection { try $0.query("SELECT 1").count }
        }
        do {
            _ = try await pool.withConnection { try $0.query("SELECT 1").count }
            Issue.record("expected a pool timeout")
        } catch let error as PostgresError {
            #expect(error.kind == .poolTimeout)
        }
        release.signal()
        release.signal()
        for holder in holders { #expect(try await holder.value == 1) }
        #expect(try await pool.withConnection { try $0.query("SELECT 1").count } == 1)
    }

    @Test("work runs on the pool's own threads, not the cooperative pool")
    func dedicatedThreads() async throws {
        let database = try TestDatabase.make(migrate: false)
        let pool = try database.pool(size: 2, asApplication: false)
        defer { pool.shutdown() }
        #expect(!PostgresPool.isPoolThread)
        #expect(try await pool.withConnection { _ in PostgresPool.isPoolThread })
    }

    @Test("after the server restarts, the pool replaces its broken connections")
    func recoversAfterRestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-restart-\(UUID().uuidString.prefix(8))")
        let embedded = try EmbeddedDatabase(directory: directory, logger: Logger(label: "test"))
        let conninfo = try embedded.start()
        defer {
            embedded.stop()
            try? FileManager.default.removeItem(at: directory)
        }
        let pool = try PostgresPool(.init(conninfo: conninfo, size: 2, acquireTimeout: .seconds(20)))
        defer { pool.shutdown() }
        #expect(try await pool.withConnection { try $0.query("SELECT 1").count } == 1)
        let before = try await pool.withConnection { try $0.query("SELECT pg_backend_pid()").first!.decode(Int.self, at: 0) }
        embedded.stop()
        _ = try embedded.start()
        let after = try await pool.withConnection { try $0.query("SELECT pg_backend_pid()").first!.decode(Int.self, at: 0) }
        #expect(after != before)
    }
}
