import ArgumentParser
import EHCPCommandLine
import EHCPDomain
import EHCPScheduler
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres
import ServiceLifecycle

/// `ehcp scheduler`: the deadline scheduler and webhook delivery alone, without the HTTP API.
/// Several may run beside each other and beside `ehcp serve`: each breach and alert still happens once.
struct SchedulerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scheduler", abstract: "Run the deadline scheduler and webhook delivery (no HTTP API).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Seconds between deadline sweeps.")
    var sweepInterval = 60

    @Option(name: .customLong("settings"), help: "Local settings (JSON, see deploy/settings.json); default $EHCP_SETTINGS.")
    var settingsPath: String?
    /// The option, else `$EHCP_SETTINGS`.
    var settings: String? { settingsPath ?? ProcessInfo.processInfo.environment["EHCP_SETTINGS"] }

    @Option(help: "Sweep once as of this date (YYYY-MM-DD), print what was recorded, and exit.")
    var once: String?

    func run() async throws {
        let logger = Logger(label: "ehcp.scheduler")
        let resolved = try database.openMigratedOrExit(logger: logger)
        defer { resolved.close() }
        let pool = try PostgresPool(.init(conninfo: resolved.service, size: 3, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        let service = try ServiceSettings.from(settings)
        let repository = CaseRepository(
            decider: CaseDecider(engine: DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales(), settings: service.local)))
        if let once {
            guard let today = CivilDate(iso: once) else { throw ValidationError("--once must be a date written YYYY-MM-DD, not '\(once)'") }
            let report = try await DeadlineSweeper(pool: pool, repository: repository).sweep(today: today)
            print("swept as of \(today): \(report.cases) cases, \(report.breaches) breaches, \(report.reminders) reminders, \(report.alerts) alerts")
            return
        }
        let scheduler = Self.service(
            pool: pool, repository: repository, conninfo: resolved.service, interval: sweepInterval, webhooks: service.webhookAddresses,
            logger: logger)
        let group = ServiceGroup(services: [scheduler], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        logger.info("scheduler running", metadata: ["sweepInterval": "\(sweepInterval)s"])
        try await group.run()
    }

    static func service(
        pool: PostgresPool, repository: CaseRepository, conninfo: String, interval: Int, webhooks: WebhookAddressPolicy, logger: Logger
    ) -> SchedulerService {
        var delivery = AlertDispatcher.Settings()
        delivery.addresses = webhooks
        return SchedulerService(
            sweeper: DeadlineSweeper(pool: pool, repository: repository, logger: logger),
            dispatcher: AlertDispatcher(pool: pool, settings: delivery, logger: logger),
            interval: .seconds(max(1, interval)), conninfo: conninfo, today: { LondonClock.today() }, logger: logger)
    }
}
