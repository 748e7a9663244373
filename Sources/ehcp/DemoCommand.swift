import ArgumentParser
import EHCPCommandLine
import EHCPDemo
import EHCPDomain
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// `ehcp demo`: generates a realistic synthetic caseload and loads it (docs/demo.md).
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Generate and load a synthetic caseload.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Cases to generate.")
    var cases = 2_000

    @Option(help: "Random seed: the same seed gives the same caseload.")
    var seed: UInt64 = 1

    @Option(name: .customLong("as-of"), help: "The day the caseload runs up to (YYYY-MM-DD; default today in Europe/London).")
    var asOf: String?

    @Option(help: "Councils to spread the cases over.")
    var councils = 1

    func validate() throws {
        if let asOf, CivilDate(iso: asOf) == nil { throw ValidationError("--as-of '\(asOf)' is not a YYYY-MM-DD date") }
        if cases < 1 { throw ValidationError("--cases must be at least 1") }
        if councils < 1 { throw ValidationError("--councils must be at least 1") }
    }

    func run() async throws {
        let logger = Logger(label: "ehcp.demo")
        let resolved = try database.openMigrated(logger: logger, serving: false)
        defer { resolved.close() }
        let seeder = DemoSeeder(
            conninfo: resolved.owner, seed: seed, asOf: asOf.flatMap { CivilDate(iso: $0) } ?? LondonClock.today(), councils: councils)
        try await seeder.seed(cases: cases, progress: true)
    }
}
