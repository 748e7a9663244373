import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Schema and migrations")
struct SchemaTests {
    static let event = NewEvent(type: "DecidedToAssess", data: "{}", occurredOn: "2025-03-03", actor: "t")

    /// A fresh database with councils A and B, and a pool as the application role.
    static func twoCouncils() throws -> (UUID, UUID, PostgresPool) {
        let database = try TestDatabase.make()
        return (try database.addCouncil(code: "A"), try database.addCouncil(code: "B"), try database.pool())
    }

    @Test("migrating twice applies the schema once and then does nothing")
    func migrateTwice() throws {
        let database = try TestDatabase.make(migrate: false)
        let connection = try database.connect()
        let migrator = try Migrator()
        #expect(try migrator.migrate(on: connection) == [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        #expect(try migrator.migrate(on: connection) == [])
        #expect(try migrator.currentVersion(on: connection) == 15)
        #expect(try connection.query("SELECT count(*) FROM schema_migrations").first?.decode(Int.self, at: 0) == 15)
        // A new database has nothing computed by an older engine.
        #expect(try connection.query("SELECT count(*) FROM projections_stale").first?.decode(Int.self, at: 0) == 0)
        #expect(try connection.query("SELECT count(*) FROM local_setting_defaults").first?.decode(Int.self, at: 0) == 0)
    }

    @Test("a release-1 database is upgraded by migrations 2 to 15 to exactly the shape of schema.sql")
    func upgradeFromRelease1() async throws {
        let current = try TestDatabase.make()
        let upgraded = try TestDatabase.make()
        let council = try upgraded.addCouncil()
        let pool = try upgraded.pool()
        defer { pool.shutdown() }
        let repository = CaseRepository.englandAndWales
        let caseId = UUID()
        for (event, day) in [(CaseEvent.requestReceived(RequestReceived(requestSource: .school)), "2025-03-03"), (.decidedToAssess, "2025-03-20")] {
            _ = try await repository.record(
                CaseCommand(
                    council: council, caseId: caseId,
                    command: LogEvent(event, on: CivilDate(iso: day)!, by: "t", today: CivilDate(iso: "2025-04-01")!)), pool: pool)
        }
        let connection = try upgraded.connect()
        // Release 1: every deadline row carried the caseworker, and the policies called ehcp_council() per row.
        try connection.execute("UPDATE deadlines SET caseworker = 'Ann', team = 'North'")
        for policy in try connection.query("SELECT policyname, tablename FROM pg_policies WHERE schemaname = 'public'").rows {
            let (name, table) = (try policy.decode(String.self, at: 0), try policy.decode(String.self, at: 1))
            try connection.execute("ALTER POLICY \(name) ON \(table) USING (council_id = ehcp_council()) WITH CHECK (council_id = ehcp_council())")
        }
        // … and had no stored responses for POSTs other than case events.
        try connection.execute("DROP TABLE idempotent_responses")
        // … nor the access log's client request id and reason.
        try connection.execute("ALTER TABLE access_log DROP COLUMN client_request_id, DROP COLUMN reason")
        // … nor forced row-level security, nor a pinned search path on the sign-in function.
        for table in try connection.query("SELECT relname::text FROM pg_class WHERE relforcerowsecurity").rows {
            try connection.execute("ALTER TABLE \(try table.decode(String.self, at: 0)) NO FORCE ROW LEVEL SECURITY")
        }
        try connection.execute("ALTER FUNCTION ehcp_authenticate(text) SET search_path = public; REVOKE SELECT ON schema_migrations FROM ehcp_app")
        // … and appended through a function (its body does not matter here: migration 6 drops it).
        try connection.execute(
            "CREATE FUNCTION ehcp_append(uuid, uuid, integer, text[], smallint[], text[], date[], text[]) RETURNS SETOF bigint LANGUAGE sql AS 'SELECT 1::bigint'"
        )
        // … nor passwords, and the service could read every column of users.
        try connection.execute("ALTER TABLE users DROP COLUMN password_hash; GRANT SELECT ON users TO ehcp_app")
        // … nor web sessions, two-factor secrets, or the caseworker's work-tray index.
        try connection.execute(
            """
            DROP FUNCTION ehcp_session_save(text, jsonb, interval); DROP FUNCTION ehcp_session_load(text, interval);
            DROP FUNCTION ehcp_session_remove(text); DROP FUNCTION ehcp_sign_in_candidates(text); DROP FUNCTION ehcp_totp_enrol(text, text, bigint);
            DROP FUNCTION ehcp_totp_use(text, bigint); DROP TABLE web_sessions; ALTER TABLE users DROP COLUMN totp_secret, DROP COLUMN totp_last_step; DROP INDEX deadlines_open_duty_by_caseworker
            """)
        // … nor missed clocks, nor a note of projections an older engine computed.
        try connection.execute(
            """
            DROP INDEX deadlines_moved_past; ALTER TABLE deadlines DROP COLUMN moved_past_on, DROP COLUMN review_outcome; DROP TABLE projections_stale;
            ALTER TABLE case_summary DROP COLUMN transferred_out_on;
            DROP INDEX IF EXISTS deadlines_council_rule_due; CREATE INDEX deadlines_council_rule_due ON deadlines (council_id, rule, due_on);
            DROP INDEX deadlines_council_rule_met;
            CREATE INDEX deadlines_council_rule_met ON deadlines (council_id, rule, met_on) WHERE met_on IS NOT NULL;
            DROP TABLE local_setting_defaults;
            ALTER TABLE users DROP COLUMN email, DROP COLUMN email_on_breach, DROP COLUMN email_on_reminder, DROP COLUMN email_digest,
                DROP COLUMN email_failed_at, DROP COLUMN email_failure;
            DROP INDEX outbox_email_alert; DROP INDEX outbox_email_digest; DROP INDEX outbox_notify_status; DROP INDEX outbox_pending;
            ALTER TABLE outbox DROP COLUMN channel, DROP COLUMN recipient, DROP COLUMN digest_day, DROP COLUMN transport, DROP COLUMN provider_id,
                DROP COLUMN delivery_status, DROP COLUMN status_checked_at;
            ALTER TABLE outbox ALTER COLUMN subscription_id SET NOT NULL, ALTER COLUMN alert_id SET NOT NULL;
            CREATE INDEX outbox_pending ON outbox (available_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
            CREATE OR REPLACE FUNCTION ehcp_deadline_status(p_status text, p_kind text, p_due date, p_excepted boolean, p_today date)
                RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE
                AS $$ SELECT CASE WHEN p_status <> 'open' THEN p_status
                                  WHEN p_kind = 'window' THEN CASE WHEN p_today >= p_due THEN 'met' ELSE 'open' END
                                  WHEN p_today <= p_due THEN 'open' WHEN p_excepted THEN 'excepted' ELSE 'breached' END $$;
            ALTER TABLE deadlines DROP CONSTRAINT deadlines_status_check;
            ALTER TABLE deadlines ADD CONSTRAINT deadlines_status_check CHECK (status IN ('open', 'met', 'metLate', 'breached', 'excepted', 'cancelled'));
            DROP TRIGGER deadlines_counted_insert ON deadlines; DROP TRIGGER deadlines_counted_update ON deadlines;
            DROP TRIGGER deadlines_counted_delete ON deadlines; DROP FUNCTION ehcp_count_clock_changes();
            DROP TRIGGER deadlines_counted_truncate ON deadlines; DROP FUNCTION ehcp_clock_counts_truncated();
            DROP FUNCTION ehcp_clock_changes(deadlines[], integer); DROP TABLE clock_count_changes; DROP TABLE clock_counts;
            DROP FUNCTION ehcp_duty_changes(deadlines[], integer); DROP TABLE duty_count_changes; DROP TABLE duty_counts;
            ALTER TABLE deadlines DROP COLUMN k20w;
            DROP INDEX children_name_search; DROP INDEX case_summary_reference_search; DROP INDEX case_summary_child;
            DROP FUNCTION ehcp_search_cases(text, integer); DROP FUNCTION ehcp_child_name(text, text); DROP EXTENSION pg_trgm;
            DROP TRIGGER case_summary_counted_insert ON case_summary; DROP TRIGGER case_summary_counted_update ON case_summary;
            DROP TRIGGER case_summary_counted_delete ON case_summary; DROP FUNCTION ehcp_count_case_changes();
            DROP TRIGGER case_summary_counted_truncate ON case_summary; DROP FUNCTION ehcp_case_counts_truncated();
            DROP FUNCTION ehcp_case_changes(case_summary[], integer); DROP TABLE case_count_changes; DROP TABLE case_counts;
            DROP TRIGGER children_counted_update ON children; DROP FUNCTION ehcp_count_child_changes();
            DROP FUNCTION ehcp_dfe_changes(case_summary[], integer); DROP FUNCTION ehcp_dfe_changes_in(case_summary[], integer[], integer);
            DROP FUNCTION ehcp_cohort(date); DROP FUNCTION ehcp_census_year(date); DROP FUNCTION ehcp_census(integer);
            DROP TABLE dfe_count_changes; DROP TABLE dfe_counts; ALTER TABLE case_summary DROP COLUMN dfe_years
            """)
        try connection.execute("DELETE FROM schema_migrations WHERE version > 1")

        #expect(try Migrator().migrate(on: connection) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
        // Migrations 9, 11 and 15 leave notes that the projections need rebuilding; the rebuild clears them.
        #expect(try connection.query("SELECT count(*) FROM projections_stale").first!.decode(Int.self, at: 0) == 3)
        // … and that decision notices are checked from the upgrade on: earlier decisions have none recorded.
        #expect(
            try connection.query("SELECT value = current_date::text FROM local_setting_defaults WHERE name = 'decisionNoticesFrom'").first?.decode(
                Bool.self, at: 0) == true)
        // The status function is migration 9's: an informational clock past its day is expired.
        #expect(
            try connection.query("SELECT ehcp_deadline_status('open', 'informational', '2025-01-01', false, '2025-02-01')").first!.decode(
                String.self, at: 0) == "expired")
        let carriers = try connection.query("SELECT rule, status FROM deadlines WHERE caseworker = 'Ann' ORDER BY rule").rows.map {
            "\(try $0.decode(String.self, at: 0)) \(try $0.decode(String.self, at: 1))"
        }
        #expect(carriers.contains("R-FINAL-20W open"))
        #expect(carriers.allSatisfy { $0.hasSuffix(" open") })
        #expect(
            try connection.query("SELECT count(*) FROM deadlines WHERE rule = 'R-DECIDE-6W' AND caseworker IS NULL").first!.decode(Int.self, at: 0)
                == 1)
        let shape = { (database: TestDatabase) throws -> [String] in
            let connection = try database.connect()
            return try connection.query(
                """
                SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = 'public'
                UNION ALL SELECT 'trigger ' || tgname || ' ' || tgrelid::regclass || ' ' || tgfoid::regproc FROM pg_trigger WHERE NOT tgisinternal
                UNION ALL SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
                UNION ALL SELECT 'policy ' || tablename || ' ' || policyname || ' ' || qual || ' ' || with_check FROM pg_policies WHERE schemaname = 'public'
                UNION ALL SELECT 'grant ' || table_name || ' ' || privilege_type FROM information_schema.role_table_grants WHERE grantee = 'ehcp_app'
                UNION ALL SELECT 'column grant ' || table_name || '.' || column_name || ' ' || privilege_type
                    FROM information_schema.column_privileges WHERE grantee = 'ehcp_app'
                UNION ALL SELECT 'row security ' || relname || ' ' || relrowsecurity || ' forced ' || relforcerowsecurity
                    FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relkind = 'r'
                UNION ALL SELECT 'function ' || proname || ' ' || prosecdef || ' ' || md5(regexp_replace(prosrc, '\\s+', ' ', 'g')) || ' '
                    || coalesce(array_to_string(proconfig, ';'), '')
                    FROM pg_proc WHERE pronamespace = 'public'::regnamespace
                ORDER BY 1
                """
            ).rows.map { try $0.decode(String.self, at: 0) }
        }
        let (expected, actual) = (try shape(current), try shape(upgraded))
        #expect(expected.count > 100)
        #expect(actual == expected)
        // Every council table's policies bind its owner too (api_tokens and web_sessions hold no council and are
        // reached only through SECURITY DEFINER functions), and no SECURITY DEFINER function can be steered by pg_temp.
        #expect(
            expected.filter {
                $0.hasPrefix("row security") && !$0.hasPrefix("row security councils") && !$0.hasPrefix("row security api_tokens")
                    && !$0.hasPrefix("row security schema_migrations") && !$0.hasPrefix("row security web_sessions")
            }.allSatisfy { $0.hasSuffix("true forced true") })
        #expect(
            expected.filter { $0.hasPrefix("function ") && $0.contains(" true ") }.allSatisfy {
                $0.hasSuffix("search_path=pg_catalog, public, pg_temp")
            })
        #expect(expected.contains { $0.hasPrefix("function ehcp_authenticate true") })
    }

    @Test("a database made by a pre-release build of schema 1 is refused with a message, not half-used")
    func preReleaseDatabase() throws {
        let database = try TestDatabase.make()
        let connection = try database.connect()
        try connection.query("UPDATE schema_migrations SET description = 'initial schema' WHERE version = 1")
        #expect(throws: Migrator.IncompatibleDatabase.self) { try Migrator().migrate(on: connection) }
    }

    @Test("the application role cannot UPDATE or DELETE events")
    func eventsAreAppendOnly() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil()
        let pool = try database.pool()
        defer { pool.shutdown() }
        let caseId = UUID()
        _ = try await pool.transaction(council: council) {
            try EventStore().append(
                council: council, caseId: caseId, expectedVersion: 0,
                events: [NewEvent(type: "DecidedToAssess", data: "{}", occurredOn: "2025-03-03", actor: "t")], on: $0)
        }
        for statement in ["UPDATE events SET actor = 'forger'", "DELETE FROM events"] {
            do {
                try await pool.transaction { connection in
                    try EventStore().setCouncil(council, on: connection)
                    try connection.query(statement)
                }
                Issue.record("\(statement) succeeded as the application role")
            } catch let error as PostgresError {
                #expect(error.sqlState == "42501", "\(statement): \(error)")
            }
        }
    }

    @Test("as the application role, rows are invisible until a council is set, and only that council's")
    func rowLevelSecurity() async throws {
        let (councilA, councilB, pool) = try Self.twoCouncils()
        defer { pool.shutdown() }
        for council in [councilA, councilB] {
            _ = try await pool.transaction(council: council) {
                try EventStore().append(council: council, caseId: UUID(), expectedVersion: 0, events: [Self.event], on: $0)
            }
        }
        let unset = try await pool.withConnection { try $0.query("SELECT count(*) FROM events").first!.decode(Int.self, at: 0) }
        #expect(unset == 0)
        let asA = try await pool.transaction { connection in
            try EventStore().setCouncil(councilA, on: connection)
            return try connection.query("SELECT council_id FROM events").rows.map { try $0.decode(UUID.self, at: 0) }
        }
        #expect(asA == [councilA])
        // Writing a row for another council is refused by the policy.
        await #expect(throws: (any Error).self) {
            try await pool.transaction { connection in
                try EventStore().setCouncil(councilA, on: connection)
                try connection.query("INSERT INTO case_streams (case_id, council_id, version) VALUES ($1, $2, 1)", [UUID(), councilB])
            }
        }
    }

    @Test("an append for one council inside a transaction acting for another is refused")
    func appendCannotSwitchCouncil() async throws {
        let (councilA, councilB, pool) = try Self.twoCouncils()
        defer { pool.shutdown() }
        do {
            _ = try await pool.transaction(council: councilA) {
                try EventStore().append(council: councilB, caseId: UUID(), expectedVersion: 0, events: [Self.event], on: $0)
            }
            Issue.record("append switched councils")
        } catch StoreError.database(let error) {
            #expect(error.sqlState == "42501")
        }
    }
}
