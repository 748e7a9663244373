import Foundation
import Logging

/// A bounded pool of connections, each owned by its own dedicated thread.
///
/// libpq blocks, and Swift's cooperative pool has one thread per core (two here), so no libpq call
/// may run there. Each pool worker thread owns one connection and runs submitted work on it; `async`
/// callers suspend until a worker has finished. Work that waits longer than `acquireTimeout` for a
/// free worker fails with `.poolTimeout`. A connection found broken (a server restart) is replaced
/// before the next piece of work, never half-way through one.
public final class PostgresPool: @unchecked Sendable {
    public struct Configuration: Sendable {
        public var conninfo: String
        public var size: Int
        public var acquireTimeout: Duration
        /// Run on each new connection (e.g. `SET ROLE ehcp_app`).
        public var onConnect: @Sendable (PostgresConnection) throws -> Void
        /// The connections go through a transaction pooler (`PostgresConnection.transactionPooled`).
        public var transactionPooled: Bool
        /// Told how long each piece of work waited for a free connection, and of each that gave up
        /// (`.poolTimeout`): for the service's metrics, which this module knows nothing of.
        public var onWait: @Sendable (Duration) -> Void = { _ in }
        public var onTimeout: @Sendable () -> Void = {}

        public init(
            conninfo: String, size: Int = 8, acquireTimeout: Duration = .seconds(10), transactionPooled: Bool = false,
            onConnect: @escaping @Sendable (PostgresConnection) throws -> Void = { _ in }
        ) {
            self.conninfo = conninfo
            self.size = size
            self.acquireTimeout = acquireTimeout
            self.transactionPooled = transactionPooled
            self.onConnect = onConnect
        }
    }

    private final class Job: @unchecked Sendable {
        let run: (PostgresConnection) -> Void
        let fail: (PostgresError) -> Void
        let queued = ContinuousClock.now
        init(run: @escaping (PostgresConnection) -> Void, fail: @escaping (PostgresError) -> Void) {
            self.run = run
            self.fail = fail
        }
    }

    public let configuration: Configuration
    private let logger: Logger
    private let condition = NSCondition()
    private var queue: [Job] = []
    private var closed = false
    private var running = 0
    private var threads: [Thread] = []

    public init(_ configuration: Configuration, logger: Logger = Logger(label: "ehcp.postgres")) throws(PostgresError) {
        try PostgresConnection.validate(conninfo: configuration.conninfo)
        self.configuration = configuration
        self.logger = logger
        for index in 0..<max(1, configuration.size) {
            let thread = Thread { [unowned self] in self.workerLoop() }
            thread.name = "postgres-\(index)"
            thread.stackSize = 1 << 20
            threads.append(thread)
            running += 1
            thread.start()
        }
    }

    deinit { shutdown() }

    /// Runs `body` with a connection on a pool thread and returns its result.
    public func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                run: { connection in
                    do { continuation.resume(returning: try body(connection)) } catch { continuation.resume(throwing: error) }
                },
                fail: { continuation.resume(throwing: $0) })
            enqueue(job)
        }
    }

    /// Runs `body` in a transaction on a pool thread: committed when it returns, rolled back when it throws.
    public func transaction<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await withConnection { connection in try connection.transaction(body) }
    }

    /// Stops the workers after the queued work has run; later calls fail with `.poolClosed`.
    public func shutdown() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ job: Job) {
        condition.lock()
        if closed {
            condition.unlock()
            job.fail(PostgresError(.poolClosed, message: "the database pool has been shut down"))
            return
        }
        queue.append(job)
        condition.signal()
        condition.unlock()
        let timeout = configuration.acquireTimeout
        let nanos = Int(timeout.components.seconds) * 1_000_000_000 + Int(timeout.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanos)) { [weak self] in
            self?.expire(job, after: timeout)
        }
    }

    /// Fails a job that is still waiting for a worker when its acquire timeout runs out.
    private func expire(_ job: Job, after timeout: Duration) {
        condition.lock()
        guard let index = queue.firstIndex(where: { $0 === job }) else {
            condition.unlock()
            return
        }
        queue.remove(at: index)
        condition.unlock()
        configuration.onTimeout()
        job.fail(
            PostgresError(
                .poolTimeout,
                message: "no database connection became free within \(timeout) (all \(configuration.size) in use)"))
    }

    /// Whether the calling thread is one of a pool's worker threads.
    public static var isPoolThread: Bool { Thread.current.threadDictionary["ehcp.postgres.pool"] != nil }

    private func workerLoop() {
        Thread.current.threadDictionary["ehcp.postgres.pool"] = true
        var connection: PostgresConnection?
        while true {
            condition.lock()
            while queue.isEmpty && !closed { condition.wait() }
            if queue.isEmpty && closed {
                condition.unlock()
                connection?.close()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()
            configuration.onWait(ContinuousClock.now - job.queued)
            if let current = connection, !current.isHealthy {
                logger.warning("replacing a broken database connection")
                current.close()
                connection = nil
            }
            if connection == nil {
                do {
                    let fresh = try PostgresConnection(configuration.conninfo, transactionPooled: configuration.transactionPooled)
                    try configuration.onConnect(fresh)
                    connection = fresh
                } catch let error as PostgresError {
                    job.fail(error)
                    continue
                } catch {
                    job.fail(PostgresError(.connection, message: "connection setup failed: \(error)"))
                    continue
                }
            }
            job.run(connection!)
        }
    }
}
