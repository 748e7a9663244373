import Postgres

/// Server settings under which a committed, acknowledged write can be lost when the machine crashes.
///
/// The application's own sessions always wait for their commit's WAL flush (`ApplicationRole.assume`), but
/// `fsync` and `full_page_writes` belong to the server: `ehcp serve` reports them at start-up, since only
/// the DBA can change them.
public enum DurabilityCheck {
    /// One sentence per unsafe setting, naming it, what it risks and the fix; empty when the server is safe.
    public static func risks(on connection: PostgresConnection) throws -> [String] {
        let off = try connection.query(
            "SELECT name FROM pg_settings WHERE name IN ('fsync', 'full_page_writes') AND setting = 'off' ORDER BY name"
        ).map { try $0.decode(String.self, at: 0) }
        return off.map { name in
            switch name {
            case "fsync":
                "PostgreSQL runs with fsync = off: a crash of the machine can lose acknowledged writes or corrupt the database; set fsync = on"
            default:
                "PostgreSQL runs with full_page_writes = off: a crash of the machine can leave torn pages that recovery cannot repair; set full_page_writes = on"
            }
        }
    }
}
