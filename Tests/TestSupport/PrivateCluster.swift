import EHCPStore
import Foundation
import Logging
import Postgres

#if canImport(Glibc)
    import Glibc
#endif

/// A PostgreSQL cluster of a test's own, made as the embedded database makes its own (initdb's defaults,
/// so `fsync` and `synchronous_commit` are on): for what the shared throwaway cluster cannot show (its
/// durability is traded for speed, and its roles are shared by every test). A test can kill its server as
/// `kill -9` would and start it again on the same files.
///
/// The server runs in the foreground as a child of this process (through `runuser` when root), not through
/// `pg_ctl`: a server `pg_ctl` started belongs to init once `pg_ctl` exits, and where init does not reap
/// (a container whose first process is not an init), a killed one stays a zombie whose PID in
/// `postmaster.pid` stops the next start.
public final class PrivateCluster: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let directory: URL
    private let postgres: URL
    /// The cluster's files, its socket's directory, where its log goes, and its port.
    public let dataDirectory: URL
    public let socketDirectory: URL
    private let baseDirectory: URL
    public let port: Int
    private var server: Process?

    /// Creates the cluster in a temporary directory and starts it.
    public init() throws {
        guard let bin = ProcessInfo.processInfo.environment["EHCP_TEST_PG_BIN"] else {
            throw Failure(description: "EHCP_TEST_PG_BIN is not set: run the tests with 'make test' (scripts/test.sh)")
        }
        postgres = URL(fileURLWithPath: bin).appendingPathComponent("postgres")
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-private-\(UUID().uuidString.prefix(8))")
        let embedded = try EmbeddedDatabase(directory: directory, logger: Logger(label: "test"))
        _ = try embedded.start()  // initdb and the `ehcp` database, as `ehcp serve` would
        embedded.stop()
        (dataDirectory, socketDirectory, baseDirectory, port) = (embedded.dataDirectory, embedded.socketDirectory, embedded.baseDirectory, 5432)
        try start()
    }

    private init(standbyIn directory: URL, postgres: URL, port: Int) {
        self.directory = directory
        self.postgres = postgres
        (dataDirectory, socketDirectory, baseDirectory, self.port) =
            (directory.appendingPathComponent("data"), directory.appendingPathComponent("run"), directory, port)
    }

    /// A hot standby of this cluster on port 5433, streaming from it: `pg_basebackup -R`, then started.
    /// Made by PostgreSQL's own tools, as a council's DBA would make one.
    public func standby() throws -> PrivateCluster {
        let standby = PrivateCluster(
            standbyIn: FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-standby-\(UUID().uuidString.prefix(8))"),
            postgres: postgres,
            port: 5433)
        try FileManager.default.createDirectory(at: standby.socketDirectory, withIntermediateDirectories: true)
        if geteuid() == 0, let owner = getpwnam("postgres") {
            for path in [standby.directory.path, standby.socketDirectory.path] { chown(path, owner.pointee.pw_uid, owner.pointee.pw_gid) }
        }
        let backup = Process()
        let arguments = [
            postgres.resolvingSymlinksInPath().deletingLastPathComponent().appendingPathComponent("pg_basebackup").path, "-h", socketDirectory.path,
            "-p", String(port),
            "-U", EmbeddedDatabase.superuser, "-D", standby.dataDirectory.path, "-R", "-X", "stream", "--checkpoint=fast",
        ]
        if geteuid() == 0 {
            backup.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            backup.arguments = ["-u", "postgres", "--"] + arguments
        } else {
            backup.executableURL = URL(fileURLWithPath: arguments[0])
            backup.arguments = Array(arguments.dropFirst())
        }
        try backup.run()
        backup.waitUntilExit()
        guard backup.terminationStatus == 0 else { throw Failure(description: "pg_basebackup failed with status \(backup.terminationStatus)") }
        try standby.start()
        return standby
    }

    /// Owner conninfo for the cluster's `postgres` database (what `TestDatabase.make(cluster:)` takes).
    public var conninfo: String {
        "host=\(socketDirectory.path) port=\(port) user=\(EmbeddedDatabase.superuser) dbname=postgres"
    }

    /// Starts the server (recovering from a crash if there was one) and returns once it accepts connections.
    public func start() throws {
        let process = Process()
        let arguments = [
            postgres.path, "-D", dataDirectory.path, "-p", String(port), "-c", "listen_addresses=",
            "-c", "unix_socket_directories=\(socketDirectory.path)",
        ]
        if geteuid() == 0 {
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--"] + arguments
        } else {
            process.executableURL = postgres
            process.arguments = Array(arguments.dropFirst())
        }
        let log = baseDirectory.appendingPathComponent("crash-server.log")
        if !FileManager.default.fileExists(atPath: log.path) { FileManager.default.createFile(atPath: log.path, contents: nil) }
        let output = try FileHandle(forWritingTo: log)
        output.seekToEndOfFile()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        server = process
        // Recovery takes as long as it takes: wait for the server as `pg_ctl start -w` does, by asking it.
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let connection = try? PostgresConnection(conninfo) {
                connection.close()
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        throw Failure(description: "the server did not start: \(text.suffix(800))")
    }

    /// Kills the server and every backend with SIGKILL, as `kill -9` would: no checkpoint, no flush of
    /// anything not already written. Returns once the server process has ended.
    public func killNine() throws {
        guard let server else { throw Failure(description: "the server is not running") }
        let pidFile = dataDirectory.appendingPathComponent("postmaster.pid")
        guard let line = try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").first, let postmaster = pid_t(line) else {
            throw Failure(description: "no PID in \(pidFile.path)")
        }
        for pid in [postmaster] + Self.children(of: postmaster) { kill(pid, SIGKILL) }
        server.waitUntilExit()
        self.server = nil
    }

    /// Stops the server (fast shutdown) and deletes the cluster.
    public func remove() {
        if let server, server.isRunning {
            if let line = try? String(contentsOf: dataDirectory.appendingPathComponent("postmaster.pid"), encoding: .utf8)
                .split(separator: "\n").first, let postmaster = pid_t(line)
            {
                kill(postmaster, SIGINT)
            }
            server.waitUntilExit()
        }
        server = nil
        try? FileManager.default.removeItem(at: baseDirectory)
        try? FileManager.default.removeItem(at: directory)
    }

    /// The processes whose parent is `parent` (from /proc: the field after the command's closing parenthesis).
    static func children(of parent: pid_t) -> [pid_t] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry -> pid_t? in
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { return nil }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 1 && pid_t(fields[1]) == parent ? pid : nil
        }
    }
}
