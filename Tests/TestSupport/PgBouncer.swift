import Foundation
import Postgres

#if canImport(Glibc)
    import Glibc
#endif

/// Debian's PgBouncer in transaction-pooling mode, in front of one PostgreSQL server, on a Unix socket
/// of its own: started by the test, stopped by it. Its pool holds `serverConnections` server sessions per
/// database and user, fewer than the service's connections, so consecutive transactions of one client
/// connection run on different server sessions, as they do in production.
public final class PgBouncer: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let directory: URL
    private let process: Process
    public static let port = 6432

    /// Starts PgBouncer for the server reached by `server` (a conninfo with `host` and `port`).
    public init(server: String, serverConnections: Int = 2) throws {
        let executable = "/usr/sbin/pgbouncer"
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw Failure(description: "PgBouncer is not installed: run scripts/install-test-deps.sh (apt-get install pgbouncer)")
        }
        func value(_ key: String) -> String? {
            server.split(separator: " ").first { $0.hasPrefix(key + "=") }.map { String($0.dropFirst(key.count + 1)) }
        }
        guard let host = value("host"), let port = value("port") else { throw Failure(description: "no host and port in \(server)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-pgbouncer-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let configuration = """
            [databases]
            * = host=\(host) port=\(port)
            [pgbouncer]
            listen_addr =
            listen_port = \(Self.port)
            unix_socket_dir = \(directory.path)
            auth_type = trust
            auth_file = \(directory.path)/users.txt
            pool_mode = transaction
            default_pool_size = \(serverConnections)
            max_client_conn = 200
            server_lifetime = 3600
            """
        try configuration.write(to: directory.appendingPathComponent("pgbouncer.ini"), atomically: true, encoding: .utf8)
        try "\"ehcp\" \"\"\n\"ehcp_service\" \"\"\n".write(to: directory.appendingPathComponent("users.txt"), atomically: true, encoding: .utf8)
        process = Process()
        let arguments = [executable, directory.appendingPathComponent("pgbouncer.ini").path]
        if geteuid() == 0, let owner = getpwnam("postgres") {
            // PgBouncer will not run as root.
            chown(directory.path, owner.pointee.pw_uid, owner.pointee.pw_gid)
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/runuser")
            process.arguments = ["-u", "postgres", "--"] + arguments
        } else {
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = Array(arguments.dropFirst())
        }
        let log = directory.appendingPathComponent("pgbouncer.log")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let output = try FileHandle(forWritingTo: log)
        process.standardOutput = output
        process.standardError = output
        try process.run()
        // Ready when it accepts a connection, as `pg_ctl -w` asks a server.
        let probe = conninfo(user: "ehcp", database: "postgres")
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let connection = try? PostgresConnection(probe, transactionPooled: true) {
                connection.close()
                return
            }
            guard process.isRunning else { break }
            usleep(50_000)
        }
        let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        stop()
        throw Failure(description: "PgBouncer did not start: \(text.suffix(800))")
    }

    /// A conninfo that reaches `database` as `user` through PgBouncer.
    public func conninfo(user: String, database: String) -> String {
        "host=\(directory.path) port=\(Self.port) user=\(user) dbname=\(database)"
    }

    /// Kills PgBouncer (SIGKILL: a test's child processes inherit a blocked SIGTERM) and removes its files.
    public func stop() {
        if process.isRunning {
            for pid in [process.processIdentifier] + PrivateCluster.children(of: process.processIdentifier) { kill(pid, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
