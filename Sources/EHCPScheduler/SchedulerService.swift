import EHCPDomain
import EHCPStore
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// The scheduler as a long-running service: a sweep every `interval` and whenever an append NOTIFYs
/// that something is already due, and webhook delivery every few seconds. Runs inside `ehcp serve`
/// or alone as `ehcp scheduler`; several may run at once (see `DeadlineSweeper`).
///
/// Sweeping and delivery are two loops that never wait for each other: a receiver that holds every
/// POST until its timeout delays only webhooks, never a council's breaches.
public struct SchedulerService: Service {
    public let sweeper: DeadlineSweeper
    public let dispatcher: AlertDispatcher
    public let interval: Duration
    public let today: @Sendable () -> CivilDate
    /// Connection string for the LISTEN connection (the pool's connections serve requests).
    let conninfo: String
    let logger: Logger

    public init(
        sweeper: DeadlineSweeper, dispatcher: AlertDispatcher, interval: Duration = .seconds(60), conninfo: String,
        today: @escaping @Sendable () -> CivilDate, logger: Logger = Logger(label: "ehcp.scheduler")
    ) {
        self.sweeper = sweeper
        self.dispatcher = dispatcher
        self.interval = interval
        self.conninfo = conninfo
        self.today = today
        self.logger = logger
    }

    public func run() async throws {
        let woken = WakeUp()
        let listener = NotificationListener(conninfo: conninfo, channel: CaseRepository.schedulerChannel, logger: logger) {
            woken.flag.withLock { $0 = true }
        }
        listener.start()
        defer { listener.stop() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sweepLoop(woken: woken) }
                group.addTask { await deliveryLoop() }
            }
        }
    }

    /// Set by a NOTIFY, taken by the sweep loop.
    final class WakeUp: Sendable {
        let flag = Mutex(false)
    }

    private func sweepLoop(woken: WakeUp) async {
        var nextSweep = ContinuousClock.now
        while !Task.isCancelled {
            if woken.flag.withLock({
                let was = $0
                $0 = false
                return was
            }) {
                nextSweep = .now
            }
            if ContinuousClock.now >= nextSweep {
                await runLogged("sweep") {
                    let report = try await sweeper.sweep(today: today())
                    if report.cases > 0 || report.councilsFailed > 0 {
                        logger.info(
                            "swept",
                            metadata: [
                                "breaches": "\(report.breaches)", "reminders": "\(report.reminders)", "alerts": "\(report.alerts)",
                                "councilsFailed": "\(report.councilsFailed)",
                            ])
                    }
                }
                nextSweep = ContinuousClock.now + interval
            }
            // A short tick: a NOTIFY is noticed within a quarter of a second.
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    private func deliveryLoop() async {
        while !Task.isCancelled {
            await runLogged("webhook delivery") { _ = try await dispatcher.dispatchOnce() }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    private func runLogged(_ what: String, _ body: () async throws -> Void) async {
        do { try await body() } catch {
            logger.error("scheduler \(what) failed; it will be retried", metadata: ["error": "\(error)"])
        }
    }
}

/// LISTENs on its own connection and thread (libpq blocks), calling `onNotify` for each notification.
/// Reconnects after a lost connection; a missed wake-up only delays work to the next timer sweep.
final class NotificationListener: @unchecked Sendable {
    private let conninfo: String
    private let channel: String
    private let logger: Logger
    private let onNotify: @Sendable () -> Void
    private let stopped = NSLock()
    private var isStopped = false

    init(conninfo: String, channel: String, logger: Logger, onNotify: @escaping @Sendable () -> Void) {
        self.conninfo = conninfo
        self.channel = channel
        self.logger = logger
        self.onNotify = onNotify
    }

    func start() {
        let thread = Thread { [self] in loop() }
        thread.name = "ehcp-listen"
        thread.start()
    }

    func stop() { stopped.withLock { isStopped = true } }

    private var shouldStop: Bool { stopped.withLock { isStopped } }

    private func loop() {
        while !shouldStop {
            do {
                let connection = try PostgresConnection(conninfo)
                try ApplicationRole.assume(connection)  // the same login checks as every other connection of the service
                try connection.listen(channel)
                while !shouldStop {
                    if !(try connection.waitForNotifications(timeout: .seconds(1))).isEmpty { onNotify() }
                }
                connection.close()
            } catch {
                logger.warning("scheduler LISTEN connection lost; reconnecting", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }
}
