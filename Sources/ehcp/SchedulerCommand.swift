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
        commandName: "scheduler", abstract: "Run the deadline scheduler, webhook delivery and email (no HTTP API).")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Seconds between deadline sweeps.")
    var sweepInterval = 60

    @Option(name: .customLong("settings"), help: "Local settings (JSON, see deploy/settings.json); default $EHCP_SETTINGS.")
    var settingsPath: String?
    /// The option, else `$EHCP_SETTINGS`.
    var settings: String? { settingsPath ?? ProcessInfo.processInfo.environment["EHCP_SETTINGS"] }

    @Option(help: "Sweep once as of this date (YYYY-MM-DD), queue that day's digests, send what is due, print what happened, and exit.")
    var once: String?

    @Option(
        name: .customLong("public-url"),
        help: "The address people reach the web pages at, for the links in emails, e.g. https://ehcp.council.gov.uk. Default $EHCP_PUBLIC_URL.")
    var publicURL: String?

    @Option(help: "Serve the delivery counts (emails and webhooks sent, failed, dead-lettered) at GET /metrics on this port of 127.0.0.1.")
    var metricsPort: Int?

    func run() async throws {
        let logger = Logger(label: "ehcp.scheduler")
        let resolved = try database.openMigratedOrExit(logger: logger)
        defer { resolved.close() }
        var configuration = resolved.serviceConfiguration()
        configuration.settings = try ServiceSettings.from(settings)
        configuration.settings.local = try database.withStoredDefaults(configuration.settings.local, resolved, logger: logger)
        try database.rebuildStaleProjections(resolved, engine: try configuration.settings.engine(), logger: logger)
        configuration.sweepInterval = .seconds(max(1, sweepInterval))
        configuration.connections = 1
        configuration.publicURL = publicURL ?? ProcessInfo.processInfo.environment["EHCP_PUBLIC_URL"]
        let service = try EHCPService(configuration, logger: logger)
        defer { service.shutdown() }
        if let once {
            guard let today = CivilDate(iso: once) else { throw ValidationError("--once must be a date written YYYY-MM-DD, not '\(once)'") }
            print(try await service.scheduler!.once(day: today))
            return
        }
        logger.info("scheduler running", metadata: ["sweepInterval": "\(sweepInterval)s"])
        try await service.schedulerGroup(logger: logger, metricsPort: metricsPort)!.run()
    }
}
