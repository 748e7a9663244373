import ArgumentParser
import EHCPServer
import EHCPStore
import Foundation
import Hummingbird
import Logging
import Postgres

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

    @ArgumentParser.Flag(help: "On an empty database, first load a demo caseload of 2,000 cases (see docs/demo.md).")
    var demo = false

    func run() async throws {
        let logger = Logger(label: "ehcp")
        let resolved: DatabaseOptions.Connection
        do {
            resolved = try database.openMigrated(logger: logger)
            let owner = try database.connect(resolved)
            let empty = try owner.query("SELECT NOT EXISTS (SELECT 1 FROM case_streams)").first!.decode(Bool.self, at: 0)
            owner.close()
            if demo && empty {
                let seeder = DemoSeeder(conninfo: resolved.conninfo, seed: 1, asOf: Clock.londonToday(), councils: 1)
                try await seeder.seed(cases: 2_000, progress: false)
                print("Demo users (tokens are shown once; make new ones with 'ehcp tokens create --user NAME'):")
                for user in try await seeder.demoUsers() {
                    print("  \(user.name.padding(toLength: 16, withPad: " ", startingAt: 0)) \(user.role.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) \(user.token)")
                }
            }
        } catch let exit as CleanExit {
            FileHandle.standardError.write(Data((exit.description + "\n").utf8))
            throw ExitCode(1)
        }
        defer { resolved.close() }
        let pool = try PostgresPool(.init(conninfo: resolved.conninfo, size: connections, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        let app = buildApplication(ServerConfiguration(host: host, port: port), dependencies: AppDependencies(pool: pool, logger: logger))
        logger.info("serving on http://\(host):\(port)")
        print("""

            EHCP is serving on http://\(host):\(port) (Ctrl-C stops it and its embedded database).
            Try:
              curl -s http://\(host):\(port)/healthz
              curl -s http://\(host):\(port)/readyz
              .build/release/ehcp scenario scenarios/shared/01.json

            """)
        do {
            try await app.runService()
        } catch {
            if "\(error)".contains("Address already in use") {
                FileHandle.standardError.write(Data("ehcp: port \(port) on \(host) is already in use; stop the other process or choose another with --port\n".utf8))
                throw ExitCode(1)
            }
            throw error
        }
    }
}
