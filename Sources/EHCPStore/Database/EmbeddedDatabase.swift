import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// A private PostgreSQL cluster under `./.ehcp/`, started (or reused) when no `DATABASE_URL` is set.
///
/// It listens only on a Unix socket inside its own directory, never on a network interface. initdb and
/// pg_ctl come from the installed server; when running as root they run as the `postgres` OS user.
public final class EmbeddedDatabase: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case serverNotInstalled
        case noPostgresUser
        case commandFailed(String, output: String)

        public var description: String {
            switch self {
            case .serverNotInstalled:
                "PostgreSQL server programs (initdb, pg_ctl) were not found; install them with 'apt-get install postgresql' or set DATABASE_URL"
            case .noPostgresUser:
                "running as root needs the 'postgres' OS user to own the embedded database; 'apt-get install postgresql' creates it"
            case .commandFailed(let command, let output):
                "\(command) failed: \(output.trimmingCharacters(in: .whitespacesAndNewlines).suffix(600))"
            }
        }
    }

    public let baseDirectory: URL
    private let logger: Logger
    private var startedHere = false
    private let binDirectory: URL
    private let runAsPostgres: Bool

    /// The superuser role the cluster is created with.
    public static let superuser = "ehcp"
    public static let databaseName = "ehcp"

    /// Prepares (but does not start) a cluster under `directory`, or a fallback the server user can reach.
    public init(directory: URL, logger: Logger) throws {
        self.logger = logger
        guard let bin = EmbeddedDatabase.findServerBinaries() else { throw Failure.serverNotInstalled }
        binDirectory = bin
        runAsPostgres = geteuid() == 0
        if runAsPostgres && getpwnam("postgres") == nil { throw Failure.noPostgresUser }
        baseDirectory = try EmbeddedDatabase.reachableDirectory(directory, runAsPostgres: runAsPostgres, logger: logger)
    }

    public var dataDirectory: URL { baseDirectory.appendingPathComponent("pgdata") }
    public var socketDirectory: URL { baseDirectory.appendingPathComponent("run") }
    public var logFile: URL { baseDirectory.appendingPathComponent("postgres.log") }

    /// A conninfo string for the `ehcp` database over the private socket, as `user` (default the superuser).
    public func conninfo(user: String = EmbeddedDatabase.superuser) -> String {
        "host=\(socketDirectory.path) port=5432 user=\(user) dbname=\(Self.databaseName)"
    }

    /// Initialises the cluster on first use, starts it unless it is already running, creates the
    /// database, and returns its conninfo.
    public func start() throws -> String {
        let fileManager = FileManager.default
        if !fileManager.fileExists(atPath: dataDirectory.appendingPathComponent("PG_VERSION").path) {
            logger.info("creating the embedded PostgreSQL cluster", metadata: ["directory": "\(dataDirectory.path)"])
            try? fileManager.removeItem(at: dataDirectory)
            do {
                try run("initdb", ["-D", dataDirectory.path, "-U", Self.superuser, "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"])
            } catch {
                try? fileManager.removeItem(at: dataDirectory)  // nothing half-created
                throw error
            }
        }
        try makeOwned(socketDirectory)
        if (try? run("pg_ctl", ["status", "-D", dataDirectory.path])) != nil {
            logger.info("reusing the embedded PostgreSQL already running", metadata: ["directory": "\(dataDirectory.path)"])
        } else {
            logger.info("starting the embedded PostgreSQL", metadata: ["socket": "\(socketDirectory.path)"])
            try run(
                "pg_ctl",
                [
                    "start", "-D", dataDirectory.path, "-w", "-t", "60", "-l", logFile.path, "-o",
                    "-c listen_addresses='' -c unix_socket_directories='\(socketDirectory.path)' -p 5432",
                ])
            startedHere = true
        }
        let exists = try run(
            "psql",
            [
                "-h", socketDirectory.path, "-p", "5432", "-U", Self.superuser, "-d", "postgres", "-qtA", "-c",
                "SELECT count(*) FROM pg_database WHERE datname = '\(Self.databaseName)'",
            ])
        if exists.trimmingCharacters(in: .whitespacesAndNewlines) == "0" {
            try run("createdb", ["-h", socketDirectory.path, "-p", "5432", "-U", Self.superuser, Self.databaseName])
        }
        return conninfo()
    }

    /// Stops the cluster if this process started it.
    public func stop() {
        guard startedHere else { return }
        startedHere = false
        logger.info("stopping the embedded PostgreSQL")
        _ = try? run("pg_ctl", ["stop", "-D", dataDirectory.path, "-m", "fast", "-w", "-t", "60"])
    }

    // MARK: Helpers

    @discardableResult
    private func run(_ program: String, _ arguments: [String]) throws -> String {
        let executable =
            program == "psql" || program == "createdb"
            ? (EmbeddedDatabase.which(program) ?? binDirectory.appendingPathComponent(program))
            : binDirectory.appendingPathComponent(program)
        let command = runAsPostgres ? ["/usr/sbin/runuser", "-u", "postgres", "--", executable.path] + arguments : [executable.path] + arguments
        let result = try ChildProcess.run(command[0], Array(command.dropFirst()))
        guard result.status == 0 else {
            throw Failure.commandFailed(([program] + arguments.prefix(2)).joined(separator: " "), output: result.output)
        }
        let output = result.output
        return output
    }

    private func makeOwned(_ directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        if runAsPostgres, let user = getpwnam("postgres") {
            chown(directory.path, user.pointee.pw_uid, user.pointee.pw_gid)
            chmod(directory.path, 0o700)
        }
    }

    /// Server binaries: on PATH, else Debian's /usr/lib/postgresql/<newest>/bin.
    static func findServerBinaries() -> URL? {
        if let initdb = which("initdb"),
            FileManager.default.isExecutableFile(atPath: initdb.deletingLastPathComponent().appendingPathComponent("pg_ctl").path)
        {
            return initdb.resolvingSymlinksInPath().deletingLastPathComponent()
        }
        let root = URL(fileURLWithPath: "/usr/lib/postgresql")
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        for version in versions.sorted(by: { (Int($0) ?? 0) > (Int($1) ?? 0) }) {
            let bin = root.appendingPathComponent(version).appendingPathComponent("bin")
            if FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path) { return bin }
        }
        return nil
    }

    static func which(_ program: String) -> URL? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = URL(fileURLWithPath: String(directory)).appendingPathComponent(program)
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// `directory` if the server's OS user can reach it; otherwise a folder under /var/tmp named after it.
    private static func reachableDirectory(_ directory: URL, runAsPostgres: Bool, logger: Logger) throws -> URL {
        let fileManager = FileManager.default
        try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        guard runAsPostgres, let user = getpwnam("postgres") else { return directory }
        chown(directory.path, user.pointee.pw_uid, user.pointee.pw_gid)
        chmod(directory.path, 0o700)
        if canPostgresReach(directory) { return directory }
        var hasher = 5381
        for byte in directory.path.utf8 { hasher = (hasher &* 33) ^ Int(byte) }
        let fallback = URL(fileURLWithPath: "/var/tmp/ehcp-\(String(UInt(bitPattern: hasher) % 1_000_000_007, radix: 16))")
        try fileManager.createDirectory(at: fallback, withIntermediateDirectories: true)
        chown(fallback.path, user.pointee.pw_uid, user.pointee.pw_gid)
        chmod(fallback.path, 0o700)
        logger.notice(
            "the postgres OS user cannot reach \(directory.path); keeping the embedded database in \(fallback.path) instead")
        try? "The embedded database for this folder lives in \(fallback.path) (the postgres user cannot reach this folder).\n"
            .write(to: directory.appendingPathComponent("WHERE-IS-THE-DATABASE.txt"), atomically: true, encoding: .utf8)
        return fallback
    }

    private static func canPostgresReach(_ directory: URL) -> Bool {
        let result = try? ChildProcess.run("/usr/sbin/runuser", ["-u", "postgres", "--", "test", "-w", directory.path, "-a", "-x", directory.path])
        return result?.status == 0
    }
}
