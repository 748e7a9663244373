import ArgumentParser
import EHCPDomain
import EHCPServer
import EHCPStore
import Foundation
import Logging
import Postgres

/// Where the database is: `DATABASE_URL` (with `DATABASE_OWNER_URL` for the schema's owner), or the
/// embedded cluster under `./.ehcp/`. `DATABASE_POOL_MODE=transaction` says that `DATABASE_URL` goes
/// through a transaction pooler (PgBouncer), and `DATABASE_LISTEN_URL` gives the scheduler a direct
/// connection for LISTEN (docs/operations.md, "Through PgBouncer").
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Folder for the embedded database when DATABASE_URL is unset.")
    var dataDirectory = ".ehcp"

    public init() {}

    /// A running database and how to reach it as each role (`ApplicationRole`); `close()` stops an
    /// embedded cluster this process started.
    public struct Connection {
        /// The tables' owner: migrations and maintenance across councils.
        public var owner: String
        /// The service's login: every pool that serves requests, sweeps or reports.
        public var service: String
        public var embedded: EmbeddedDatabase?
        /// `service` goes through a transaction pooler (`DATABASE_POOL_MODE=transaction`).
        public var transactionPooled = false
        /// A direct connection for the scheduler's LISTEN (`DATABASE_LISTEN_URL`); nil listens on `service`.
        public var listen: String?
        public func close() { embedded?.stop() }

        /// The service's configuration with this database's connections.
        public func serviceConfiguration() -> ServiceConfiguration {
            var configuration = ServiceConfiguration(conninfo: service)
            configuration.transactionPooled = transactionPooled
            configuration.listenConninfo = listen
            return configuration
        }

        /// A pool of the service's login, for a command that reads as the service does.
        public func servicePool(size: Int) throws -> PostgresPool {
            try PostgresPool(.init(conninfo: service, size: size, transactionPooled: transactionPooled, onConnect: ApplicationRole.assume))
        }
    }

    /// Resolves the database. Every failure is one clear line naming the problem and what to do.
    ///
    /// An external server is named by `DATABASE_URL` (the service's login), `DATABASE_OWNER_URL` (the
    /// owner's), or both; either stands in for the other when it is the only one set, so that the
    /// migration unit needs only the owner's and the service only its own.
    public func open(logger: Logger) throws -> Connection {
        let environment = ProcessInfo.processInfo.environment
        func url(_ name: String) throws -> String? {
            guard let value = environment[name], !value.isEmpty else { return nil }
            do {
                try PostgresConnection.validate(conninfo: value)
            } catch {
                throw ExitMessage.message(
                    "\(name) is not a valid PostgreSQL URL (\(error.message)); expected e.g. postgresql://user@host:5432/ehcp")
            }
            return value
        }
        let (service, owner, listen) = (try url("DATABASE_URL"), try url("DATABASE_OWNER_URL"), try url("DATABASE_LISTEN_URL"))
        let pooled: Bool
        switch environment["DATABASE_POOL_MODE"] ?? "" {
        case "", "session": pooled = false
        case "transaction": pooled = true
        case let other:
            throw ExitMessage.message(
                "DATABASE_POOL_MODE is '\(other)'; it must be 'session' (the default: DATABASE_URL reaches PostgreSQL or a session pooler) "
                    + "or 'transaction' (DATABASE_URL goes through PgBouncer with pool_mode = transaction)")
        }
        if let external = service ?? owner {
            return Connection(
                owner: owner ?? external, service: service ?? external, embedded: nil, transactionPooled: pooled, listen: listen)
        }
        do {
            let embedded = try EmbeddedDatabase(directory: URL(fileURLWithPath: dataDirectory, isDirectory: true), logger: logger)
            let owner = try embedded.start()
            return Connection(owner: owner, service: embedded.conninfo(user: ApplicationRole.embeddedLogin), embedded: embedded)
        } catch let failure as EmbeddedDatabase.Failure {
            throw ExitMessage.message("cannot start the embedded database: \(failure)")
        }
    }

    /// Resolves the database and brings its schema up to date: the prologue of every command that uses it.
    /// `openMigrated`, or exit with status 1 after one clear line on stderr (for long-running commands).
    public func openMigratedOrExit(logger: Logger, migrating: Bool = true, serving: Bool = true) throws -> Connection {
        do { return try openMigrated(logger: logger, migrating: migrating, serving: serving) } catch let exit as ExitMessage {
            FileHandle.standardError.write(Data((exit.description + "\n").utf8))
            throw ExitCode(1)
        }
    }

    /// Resolves the database, brings its schema up to date as the owner (or, for a command that only
    /// reads, with `migrating` false, refuses a schema behind this build) and, unless `serving` is false,
    /// checks that the service's login holds no more than `ehcp_app` (`ApplicationRole.assume`).
    public func openMigrated(logger: Logger, migrating: Bool = true, serving: Bool = true) throws -> Connection {
        let resolved = try open(logger: logger)
        do {
            let owner = try connect(resolved.owner)
            defer { owner.close() }
            let migrator = try Migrator()
            if migrating {
                try migrator.migrate(on: owner)
            } else if try migrator.currentVersion(on: owner) != migrator.latestVersion {
                throw ExitMessage.message(
                    "the database's schema is at version \(try migrator.currentVersion(on: owner)) and this build needs \(migrator.latestVersion); "
                        + "this command only reads: run 'ehcp migrate' first")
            }
            if resolved.embedded != nil { try ApplicationRole.provisionLogin(on: owner) }
            if serving {
                let service = try connect(resolved.service, transactionPooled: resolved.transactionPooled)
                defer { service.close() }
                try ApplicationRole.assume(service)
            }
        } catch let refusal as any DatabaseRefusal {
            resolved.close()
            throw ExitMessage.message(refusal.description)
        } catch {
            resolved.close()
            throw error
        }
        return resolved
    }

    /// Connects once, with a clear message when the server cannot be reached.
    public func connect(_ conninfo: String, transactionPooled: Bool = false) throws -> PostgresConnection {
        do {
            return try PostgresConnection(conninfo, transactionPooled: transactionPooled)
        } catch {
            throw ExitMessage.message("\(error.message); check that the server is running and DATABASE_URL is right")
        }
    }
}

/// A failure the user can act on: printed as one line, exit status 1.
public enum ExitMessage: Error, CustomStringConvertible {
    case message(String)
    public var description: String {
        switch self {
        case .message(let text): "ehcp: " + text
        }
    }
}

extension ServiceSettings {
    /// The settings file's contents over the defaults, or the defaults; a bad file exits with its message.
    public static func from(_ path: String?) throws -> ServiceSettings {
        guard let path else { return ServiceSettings() }
        do { return try SettingsFile.load(path: path) } catch let invalid as SettingsFile.Invalid {
            FileHandle.standardError.write(Data("ehcp: \(invalid)\n".utf8))
            throw ExitCode(1)
        }
    }
}

/// Runs `body`, printing a `ExitMessage` as one line on standard error and exiting 1.
public func reportingCleanly(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let exit as ExitMessage {
        FileHandle.standardError.write(Data((exit.description + "\n").utf8))
        throw ExitCode(1)
    }
}
