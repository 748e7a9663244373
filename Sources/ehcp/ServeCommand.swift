import ArgumentParser
import EHCPAPI
import EHCPCommandLine
import EHCPDomain
import EHCPReports
import EHCPServer
import EHCPStore
import EHCPWeb
import Foundation
import Hummingbird
import Logging
import Postgres
import ServiceLifecycle

/// `ehcp serve`: the HTTP service, on `DATABASE_URL` or the embedded database.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the HTTP service.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8080

    @Option(help: "Database connections in the pool.")
    var connections = 8

    @ArgumentParser.Flag(inversion: .prefixedNo, help: "Run the deadline scheduler and webhook delivery in this process.")
    var scheduler = true

    @Option(help: "Seconds between deadline sweeps (a back-dated event also wakes the scheduler at once).")
    var sweepInterval = 60

    @Option(
        name: .customLong("settings"),
        help: "Local settings: local targets and reminder offsets per rule (JSON, see deploy/settings.json); default $EHCP_SETTINGS.")
    var settingsPath: String?
    /// The option, else `$EHCP_SETTINGS`.
    var settings: String? { settingsPath ?? ProcessInfo.processInfo.environment["EHCP_SETTINGS"] }

    @Option(name: .customLong("targets"), help: "Monthly KPI targets (JSON, see deploy/targets.json); default $EHCP_TARGETS.")
    var targetsPath: String?
    /// The option, else `$EHCP_TARGETS`.
    var targets: String? { targetsPath ?? ProcessInfo.processInfo.environment["EHCP_TARGETS"] }

    @Option(
        help: ArgumentHelp(
            "Case states held folded in memory, per generation (at most twice as many; about 15 KiB each for a demo case of 22 events).",
            discussion: "At start the server reads the open cases' states in the background, most recently changed first."))
    var cachedCases = 16_384

    @Option(
        name: .customLong("public-url"),
        help: "The address people use to reach the service, e.g. https://ehcp.council.gov.uk; https makes cookies Secure. Default $EHCP_PUBLIC_URL.")
    var publicURLOption: String?

    @Option(
        name: .customLong("replica-url"),
        help: "A hot standby (streaming replication) for the reports and the managers' pages to read from; default $EHCP_REPLICA_URL.")
    var replicaURL: String?

    @ArgumentParser.Flag(help: "On an empty database, first load a demo caseload of 2,000 cases (see docs/demo.md).")
    var demo = false

    func run() async throws {
        let logger = Logger(label: "ehcp")
        let resolved: DatabaseOptions.Connection
        var demoUsers: [DemoSeeder.DemoUser] = []
        var service: ServiceSettings
        do {
            resolved = try database.openMigrated(logger: logger)
            let owner = try database.connect(resolved.owner)
            // Only the owner sees every council's cases (the service's login, with no council set, sees none).
            let empty = try demo && owner.query("SELECT NOT EXISTS (SELECT 1 FROM case_streams)").first!.decode(Bool.self, at: 0)
            for risk in try DurabilityCheck.risks(on: owner) { logger.error("\(risk)") }
            owner.close()
            service = try ServiceSettings.from(settings)
            service.local = try database.withStoredDefaults(service.local, resolved, logger: logger)
            try database.rebuildStaleProjections(resolved, engine: try service.engine(), logger: logger)
            if empty {
                let seeder = DemoSeeder(conninfo: resolved.owner, seed: 1, asOf: LondonClock.today(), councils: 1)
                try await seeder.seed(cases: 2_000, progress: false)
                demoUsers = try await seeder.demoUsers()
            }
        } catch let exit as ExitMessage {
            FileHandle.standardError.write(Data((exit.description + "\n").utf8))
            throw ExitCode(1)
        }
        defer { resolved.close() }
        var configuration = resolved.serviceConfiguration()
        configuration.server = ServerConfiguration(host: host, port: port)
        configuration.connections = connections
        configuration.settings = service
        configuration.runsScheduler = scheduler
        configuration.sweepInterval = .seconds(max(1, sweepInterval))
        configuration.cachedCases = cachedCases
        configuration.publicURL = publicURLOption ?? ProcessInfo.processInfo.environment["EHCP_PUBLIC_URL"]
        configuration.web = WebSettings(publicURL: configuration.publicURL)
        configuration.replicaConninfo = replicaURL ?? ProcessInfo.processInfo.environment["EHCP_REPLICA_URL"]
        do { configuration.targets = try targets.map { try Targets(json: Data(contentsOf: URL(fileURLWithPath: $0))) } ?? Targets() } catch {
            FileHandle.standardError.write(Data("ehcp: cannot read the targets file '\(targets ?? "")': \(error)\n".utf8))
            throw ExitCode(1)
        }
        let running = try EHCPService(configuration, logger: logger)
        defer { running.shutdown() }
        let welcome = Self.welcome(base: "http://\(host):\(port)", demoUsers: demoUsers)
        let app = running.application(logger: logger) { FileHandle.standardOutput.write(Data(welcome.utf8)) }
        let warming = Task { [writer = running.api.cases.writer] in
            let started = ContinuousClock.now
            do {
                let held = try await writer.holdOpenCases()
                logger.info("read ahead and holding the states of \(held) open cases, in \(ContinuousClock.now - started)")
            } catch is CancellationError {
            } catch {
                logger.warning("could not read the open cases' states ahead (each is read at its first event instead): \(error)")
            }
        }
        defer { warming.cancel() }
        do {
            try await app.runService()
        } catch {
            if "\(error)".contains("Address already in use") {
                FileHandle.standardError.write(
                    Data("ehcp: port \(port) on \(host) is already in use; stop the other process or choose another with --port\n".utf8))
                throw ExitCode(1)
            }
            throw error
        }
    }

    /// The first-run message: who can log in and three requests worth trying.
    static func welcome(base: String, demoUsers: [DemoSeeder.DemoUser]) -> String {
        var lines = [
            "", "EHCP is serving on \(base) (Ctrl-C stops it and its embedded database).",
            "Open \(base)/ in a browser and sign in. The API: \(base)/v1/openapi.json",
        ]
        if let caseworker = demoUsers.first(where: { $0.role == .caseworker }) {
            lines.append("Demo users (shown once; set a password with 'ehcp users passwd NAME', a token with 'ehcp tokens create --user NAME'):")
            lines.append("  username         role        password           API token")
            for user in demoUsers {
                lines.append(
                    "  \(user.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(user.role.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(user.password.padding(toLength: 18, withPad: " ", startingAt: 0)) \(user.token)"
                )
            }
            lines += [
                "Try, as \(caseworker.name):",
                "  export TOKEN=\(caseworker.token)",
                "  curl -s -H \"Authorization: Bearer $TOKEN\" '\(base)/v1/work-tray?days=14'            # what is due or overdue for me",
                "  curl -s -H \"Authorization: Bearer $TOKEN\" '\(base)/v1/cases?overdue=true&limit=5'   # overdue cases",
                "  curl -s -H \"Authorization: Bearer $TOKEN\" '\(base)/v1/cases/CASE_ID'                # one case, its deadlines (id from above)",
            ]
        } else {
            lines += [
                "Try:",
                "  curl -s \(base)/readyz",
                "  curl -s \(base)/v1/openapi.json | head -c 300",
                "  .build/release/ehcp users add NAME --role caseworker    # prints a token for the API",
            ]
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
