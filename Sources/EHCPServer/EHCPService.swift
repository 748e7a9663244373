import CoreMetrics
import EHCPAPI
import EHCPDomain
import EHCPReports
import EHCPScheduler
import EHCPStore
import EHCPWeb
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle

/// Everything the running service is built from, in one value: `ehcp serve`, `ehcp scheduler` and the
/// API tests each fill one in and hand it to `EHCPService`.
public struct ServiceConfiguration: Sendable {
    /// The service's login (`ApplicationRole`); never the owner's.
    public var conninfo: String
    /// `conninfo` goes through a transaction pooler such as PgBouncer (`PostgresConnection.transactionPooled`).
    public var transactionPooled = false
    /// A direct connection for the scheduler's LISTEN; nil listens on `conninfo` (and, through a
    /// transaction pooler, falls back to polling).
    public var listenConninfo: String?
    /// Where the HTTP server listens.
    public var server = ServerConfiguration()
    /// Connections in the API's pool.
    public var connections = 8
    /// The settings file's contents: local rules, webhook hosts, the case-reference pattern.
    public var settings = ServiceSettings()
    /// Monthly KPI targets shown beside the timeliness figures.
    public var targets = Targets()
    /// Run the deadline sweep and webhook delivery in this process.
    public var runsScheduler = true
    /// Time between deadline sweeps (a back-dated event also wakes the scheduler at once).
    public var sweepInterval = Duration.seconds(60)
    /// Case states held folded in memory, per generation (`CaseStateCache`).
    public var cachedCases = 16_384
    /// How the web pages are served (secure cookies behind https).
    public var web = WebSettings()
    /// The address people reach the web pages at, for links in emails; default the server's own address.
    public var publicURL: String?
    /// A hot standby the reports read from (`ehcp serve --replica-url`); nil reads everything from the primary.
    public var replicaConninfo: String?
    /// Today in Europe/London; tests fix it.
    public var today: @Sendable () -> CivilDate = { LondonClock.today() }

    public init(conninfo: String) { self.conninfo = conninfo }
}

/// The composition root: the pools, the deadline engine, the repository and the batch writer, wired
/// once from a `ServiceConfiguration`, with the HTTP application and the scheduler built on them.
public final class EHCPService: Sendable {
    public let configuration: ServiceConfiguration
    public let api: APIDependencies
    /// The scheduler's own small pool, so that a long sweep never waits behind requests.
    private let schedulerPool: PostgresPool?
    /// The standby's pool, when reports read from one.
    private let replicaPool: PostgresPool?
    public let scheduler: SchedulerService?
    /// The web pages' templates, read once.
    public let pages: Pages

    public init(_ configuration: ServiceConfiguration, logger: Logger = Logger(label: "ehcp")) throws {
        self.configuration = configuration
        pages = try Pages()
        let engine = try configuration.settings.engine()
        let repository = CaseRepository(decider: CaseDecider(engine: engine))
        let metrics = ServiceMetrics()
        let pooled = configuration.transactionPooled
        /// A pool of the service's login, its waits for a connection counted as `name` on `/metrics`.
        func servicePool(_ conninfo: String, size: Int, acquireTimeout: Duration = .seconds(10), name: String) throws -> PostgresPool {
            var pool = PostgresPool.Configuration(
                conninfo: conninfo, size: size, acquireTimeout: acquireTimeout, transactionPooled: pooled, onConnect: ApplicationRole.assume)
            let waits = CoreMetrics.Timer(label: "ehcp_db_pool_wait_seconds", dimensions: [("pool", name)], factory: metrics.factory)
            let timeouts = Counter(label: "ehcp_db_pool_timeouts_total", dimensions: [("pool", name)], factory: metrics.factory)
            pool.onWait = { waits.recordNanoseconds($0.components.seconds * 1_000_000_000 + $0.components.attoseconds / 1_000_000_000) }
            pool.onTimeout = { timeouts.increment() }
            return try PostgresPool(pool)
        }
        let pool = try servicePool(configuration.conninfo, size: configuration.connections, name: "api")
        let replica = try configuration.replicaConninfo.map { conninfo in
            ReplicaReads(
                replica: try servicePool(conninfo, size: 4, acquireTimeout: .seconds(2), name: "replica"),
                maxLag: configuration.settings.replicaMaxLag, metrics: metrics.factory)
        }
        replicaPool = replica?.replica
        api = APIDependencies(
            pool: pool, repository: repository, today: configuration.today, metrics: metrics, targets: configuration.targets,
            caseReferences: configuration.settings.caseReferences,
            writer: CaseBatchWriter(repository: repository, pool: pool, cachedCases: configuration.cachedCases, metrics: metrics.factory),
            replica: replica)
        if configuration.runsScheduler {
            let pool = try servicePool(configuration.conninfo, size: 3, name: "scheduler")
            var delivery = AlertDispatcher.Settings()
            delivery.addresses = configuration.settings.webhookAddresses
            schedulerPool = pool
            let metrics = DeliveryMetrics(emailTransport: configuration.settings.email?.transport.name, factory: metrics.factory)
            let links = EmailContent.Links(base: configuration.publicURL ?? "http://\(configuration.server.host):\(configuration.server.port)")
            if configuration.settings.email != nil && configuration.publicURL == nil {
                logger.warning(
                    "emails will link to \(links.base); give the address people use with --public-url or EHCP_PUBLIC_URL")
            }
            let email = try configuration.settings.email.map { settings in
                SchedulerService.Email(
                    dispatcher: try EmailDispatcher(pool: pool, settings: settings, metrics: metrics, logger: logger),
                    digests: DigestWriter(pool: pool, links: links, logger: logger),
                    digestDay: { [today = configuration.today] in LondonClock.minutesPastMidnight() >= settings.digestAt ? today() : nil })
            }
            scheduler = SchedulerService(
                sweeper: DeadlineSweeper(pool: pool, repository: repository, emailLinks: email == nil ? nil : links, logger: logger),
                dispatcher: AlertDispatcher(pool: pool, settings: delivery, metrics: metrics, logger: logger), email: email,
                interval: configuration.sweepInterval,
                listening: configuration.listenConninfo.map { .init(conninfo: $0) }
                    ?? .init(conninfo: configuration.conninfo, transactionPooled: pooled), today: configuration.today,
                logger: logger)
        } else {
            (schedulerPool, scheduler) = (nil, nil)
        }
    }

    /// The HTTP application, with the scheduler (when it runs here) as one of its services.
    public func application(logger: Logger, onListening: @escaping @Sendable () async -> Void = {}) -> some ApplicationProtocol {
        buildApplication(
            configuration.server, api: api, web: (pages, webSettings), logger: logger, services: scheduler.map { [$0] } ?? [],
            onListening: onListening)
    }

    /// The web pages' settings, with the roles the settings file says need a second factor.
    var webSettings: WebSettings {
        var web = configuration.web
        web.twoFactorRoles.formUnion(configuration.settings.twoFactorRoles)
        return web
    }

    /// The scheduler alone (`ehcp scheduler`), stopped by SIGTERM or SIGINT; with `metricsPort`, its
    /// metrics (sweeps, deliveries, the outbox, its pools) at `GET /metrics` on that port of the server's
    /// host (no API beside them).
    public func schedulerGroup(logger: Logger, metricsPort: Int? = nil) -> ServiceGroup? {
        guard let scheduler else { return nil }
        var services: [any Service] = [scheduler]
        if let metricsPort {
            let metrics = api.metrics
            let router = Router()
            router.get("metrics") { _, _ in
                Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
            }
            services.append(
                Application(router: router, configuration: .init(address: .hostname(configuration.server.host, port: metricsPort)), logger: logger))
        }
        return ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    }

    /// Closes the pools once the work in hand is done.
    public func shutdown() {
        api.pool.shutdown()
        schedulerPool?.shutdown()
        replicaPool?.shutdown()
    }
}

extension ServiceSettings {
    /// The deadline engine under these settings, on England and Wales's bank holidays.
    public func engine() throws -> DeadlineEngine {
        DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales(), settings: local)
    }
}
