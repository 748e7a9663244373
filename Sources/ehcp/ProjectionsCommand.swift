import ArgumentParser
import EHCPCommandLine
import EHCPDomain
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp projections rebuild`: recompute case summaries and deadline rows from the event log.
struct ProjectionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections", abstract: "Maintain the projections computed from the event log.", subcommands: [Rebuild.self])

    struct Rebuild: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute case summaries and deadlines from the events (after changing reminder offsets, or to repair them).",
            discussion: "Safe while the service runs: each batch of cases is locked as a writer locks it.")

        @OptionGroup var database: DatabaseOptions

        @Option(help: "Only this council's cases (its code); default every council.")
        var council: String?

        @Option(
            name: .customLong("settings"),
            help: "Local settings whose reminder offsets the rows should carry (JSON, see deploy/settings.json); default $EHCP_SETTINGS.")
        var settingsPath: String?
        /// The option, else `$EHCP_SETTINGS`.
        var settings: String? { settingsPath ?? ProcessInfo.processInfo.environment["EHCP_SETTINGS"] }

        func run() throws {
            let logger = Logger(label: "ehcp.projections")
            try reportingCleanly {
                let resolved = try database.openMigratedOrExit(logger: logger, serving: false)
                defer { resolved.close() }
                let connection = try database.connect(resolved.owner)
                defer { connection.close() }
                let councilId = try council.map { try UserDirectory().council(code: $0, on: connection) }
                var service = try ServiceSettings.from(settings)
                service.local = try database.withStoredDefaults(service.local, resolved, logger: logger)
                let engine = try service.engine()
                let started = ContinuousClock.now
                let done = try ProjectionRebuilder(engine: engine).rebuild(council: councilId, on: connection) { progress in
                    if progress.cases % 10_000 < 500 { print("rebuilt \(progress.cases) cases…") }
                }
                if councilId == nil { try connection.query("DELETE FROM projections_stale") }
                print("Rebuilt the projections of \(done.cases) cases (\(done.events) events) in \(ContinuousClock.now - started).")
            }
        }
    }
}
