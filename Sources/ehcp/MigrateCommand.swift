import ArgumentParser
import EHCPCommandLine
import EHCPStore
import Foundation
import Logging

/// `ehcp migrate`: applies schema.sql and numbered migrations; running it again does nothing.
struct MigrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "migrate", abstract: "Create or upgrade the database schema.")

    @OptionGroup var database: DatabaseOptions

    func run() throws {
        let logger = Logger(label: "ehcp.migrate")
        try reportingCleanly {
            let resolved = try database.open(logger: logger)
            defer { resolved.close() }
            let connection = try database.connect(resolved.owner)
            defer { connection.close() }
            let migrator = try Migrator()
            let applied = try migrator.migrate(on: connection)
            print(
                applied.isEmpty
                    ? "Schema already at version \(migrator.latestVersion); nothing to do."
                    : "Applied schema version\(applied.count > 1 ? "s" : "") \(applied.map(String.init).joined(separator: ", ")).")
        }
    }
}
