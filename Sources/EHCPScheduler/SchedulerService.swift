import EHCPDomain
import EHCPStore
import Foundation
import Logging
import Postgres
import ServiceLifecycle
import Synchronization

/// The scheduler as a long-running service: a sweep every `interval` and whenever an append NOTIFYs
/// that something is already due, webhook delivery every few seconds, and, when email is set up, email
/// delivery and the daily digests. Runs inside `ehcp serve` or alone as `ehcp scheduler`; several may
/// run at once (see `DeadlineSweeper`, `Outbox` and `DigestWriter`).
///
/// Sweeping, webhooks, email and Notify's statuses are loops that never wait for each other: a receiver
/// or a relay that holds every request until its timeout delays only its own channel, never a council's
/// breaches.
public struct SchedulerService: Service {
    public let sweeper: DeadlineSweeper
    public let dispatcher: AlertDispatcher
    public let email: Email?
    public let interval: Duration
    public let today: @Sendable () -> CivilDate
    /// Where the LISTEN connection goes (the pool's connections serve requests).
    let listening: NotificationListener.Target
    let logger: Logger

    /// Email: the dispatcher, the digests, and the day whose digests are due now (nil before the
    /// council's digest time).
    public struct Email: Sendable {
        public var dispatcher: EmailDispatcher
        public var digests: DigestWriter
        public var digestDay: @Sendable () -> CivilDate?
        public init(dispatcher: EmailDispatcher, digests: DigestWriter, digestDay: @escaping @Sendable () -> CivilDate?) {
            self.dispatcher = dispatcher
            self.digests = digests
            self.digestDay = digestDay
        }
    }

    public init(
        sweeper: DeadlineSweeper, dispatcher: AlertDispatcher, email: Email? = nil, interval: Duration = .seconds(60),
        listening: NotificationListener.Target,
        today: @escaping @Sendable () -> CivilDate, logger: Logger = Logger(label: "ehcp.scheduler")
    ) {
        self.sweeper = sweeper
        self.dispatcher = dispatcher
        self.email = email
        self.interval = interval
        self.listening = listening
        self.today = today
        self.logger = logger
    }

    public func run() async throws {
        let woken = WakeUp()
        let listener = NotificationListener(listening, channel: CaseRepository.schedulerChannel, logger: logger) {
            woken.flag.withLock { $0 = true }
        }
        listener.start()
        defer { listener.stop() }
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await sweepLoop(woken: woken) }
                group.addTask { await deliveryLoop() }
                if let email {
                    group.addTask { await emailLoop(email) }
                    group.addTask { await statusLoop(email) }
                }
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
                    let began = ContinuousClock.now
                    let report = try await sweeper.sweep(today: today())
                    dispatcher.metrics?.swept(report, in: ContinuousClock.now - began, at: Date().timeIntervalSince1970)
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

    /// Sends queued emails, reads Notify's statuses back, and once a day after the digest time queues
    /// the digests (a restart the same day queues none twice: the outbox's unique index decides).
    private func emailLoop(_ email: Email) async {
        var digestsWritten: CivilDate?
        while !Task.isCancelled {
            if let day = email.digestDay(), day != digestsWritten {
                await runLogged("daily digests") {
                    let queued = try await email.digests.write(day: day)
                    logger.info("daily digests queued", metadata: ["day": "\(day)", "digests": "\(queued)"])
                    digestsWritten = day
                }
            }
            await runLogged("email delivery") { _ = try await email.dispatcher.dispatchOnce() }
            try? await Task.sleep(for: .seconds(5))
        }
    }

    /// Reads GOV.UK Notify's delivery statuses back, apart from sending, so that a slow answer delays neither.
    private func statusLoop(_ email: Email) async {
        while !Task.isCancelled {
            await runLogged("email status") { _ = try await email.dispatcher.readStatuses() }
            try? await Task.sleep(for: .seconds(30))
        }
    }

    /// `ehcp scheduler --once`: a sweep as of `day`, that day's digests, and one round of delivery.
    public func once(day: CivilDate) async throws -> String {
        let swept = try await sweeper.sweep(today: day)
        var lines = ["swept as of \(day): \(swept.cases) cases, \(swept.breaches) breaches, \(swept.reminders) reminders, \(swept.alerts) alerts"]
        let webhooks = try await dispatcher.dispatchOnce()
        lines.append("webhooks: \(webhooks.delivered) delivered, \(webhooks.failed) to retry, \(webhooks.dead) dead-lettered")
        if let email {
            let digests = try await email.digests.write(day: day)
            let sent = try await email.dispatcher.dispatchOnce()
            lines.append(
                "emails (\(email.dispatcher.settings.transport.name)): \(digests) digests queued; \(sent.delivered) sent, \(sent.failed) to retry, \(sent.dead) dead-lettered"
            )
        }
        return lines.joined(separator: "\n")
    }

    private func runLogged(_ what: String, _ body: () async throws -> Void) async {
        do { try await body() } catch {
            logger.error("scheduler \(what) failed; it will be retried", metadata: ["error": "\(error)"])
        }
    }
}

/// LISTENs on its own connection and thread (libpq blocks), calling `onNotify` for each notification.
/// Reconnects after a lost connection; a missed wake-up only delays work to the next timer sweep.
///
/// A LISTEN through a transaction pooler (PgBouncer's `pool_mode = transaction`) is accepted but hears
/// nothing: the server session that ran it serves other clients' transactions next. So each new
/// connection first checks that it hears a NOTIFY sent from another connection. One that does not falls
/// back to calling `onNotify` every `pollEvery` (a sweep with nothing due costs about a millisecond), says
/// so in the log, and tries listening again after `retryListeningAfter`.
public final class NotificationListener: @unchecked Sendable {
    /// A connection string, and whether it goes through a transaction pooler.
    public struct Target: Sendable {
        public var conninfo: String
        public var transactionPooled: Bool
        public init(conninfo: String, transactionPooled: Bool = false) {
            self.conninfo = conninfo
            self.transactionPooled = transactionPooled
        }
    }

    private let target: Target
    private let channel: String
    private let logger: Logger
    private let onNotify: @Sendable () -> Void
    private let stopped = NSLock()
    private var isStopped = false
    static let pollEvery = 5.0
    static let retryListeningAfter = 600.0
    /// How long the self-test waits for its own NOTIFY; a direct connection hears it in milliseconds.
    static let selfTestWait = Duration.seconds(5)

    init(_ target: Target, channel: String, logger: Logger, onNotify: @escaping @Sendable () -> Void) {
        self.target = target
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
                let connection = try connect()
                defer { connection.close() }
                try connection.listen(channel)
                guard try hearsItself(connection) else {
                    logger.warning(
                        """
                        scheduler LISTEN hears nothing through this connection (a transaction pooler such as PgBouncer?); \
                        sweeping every \(Int(Self.pollEvery)) s instead. Set DATABASE_LISTEN_URL to a direct connection to be woken at once
                        """)
                    connection.close()
                    poll(for: Self.retryListeningAfter)
                    continue
                }
                logger.info("scheduler LISTEN ready: an event recorded late wakes the sweep at once")
                while !shouldStop {
                    let heard = try connection.waitForNotifications(timeout: .seconds(1))
                    if heard.contains(where: { !$0.payload.hasPrefix(Self.selfTestPrefix) }) { onNotify() }
                }
            } catch {
                logger.warning("scheduler LISTEN connection lost; reconnecting", metadata: ["error": "\(error)"])
                Thread.sleep(forTimeInterval: 2)
            }
        }
    }

    private func connect() throws -> PostgresConnection {
        let connection = try PostgresConnection(target.conninfo, transactionPooled: target.transactionPooled)
        do {
            try ApplicationRole.assume(connection)  // the same login checks as every other connection of the service
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    static let selfTestPrefix = "self-test "

    /// Sends a NOTIFY from a second connection and waits for `connection` to hear it.
    private func hearsItself(_ connection: PostgresConnection) throws -> Bool {
        let token = Self.selfTestPrefix + UUID().uuidString
        let sender = try connect()
        defer { sender.close() }
        try sender.query("SELECT pg_notify($1, $2)", [channel, token])
        let deadline = ContinuousClock.now + Self.selfTestWait
        while ContinuousClock.now < deadline && !shouldStop {
            if try connection.waitForNotifications(timeout: .milliseconds(200)).contains(where: { $0.payload == token }) { return true }
        }
        return false
    }

    /// Wakes the sweep every `pollEvery` seconds for `seconds`, or until stopped.
    private func poll(for seconds: Double) {
        let until = Date().addingTimeInterval(seconds)
        while !shouldStop && Date() < until {
            Thread.sleep(forTimeInterval: Self.pollEvery)
            if !shouldStop { onNotify() }
        }
    }
}
