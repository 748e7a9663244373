import EHCPDemo
import EHCPDomain
import Foundation
import Postgres
import TestSupport
import Testing

@testable import EHCPStore

@Suite("Rebuilding projections from the event log")
struct ProjectionRebuilderTests: CaseSuite {
    let database: TestDatabase
    let council: UUID

    init() throws { (database, council) = try Self.freshCouncil() }

    /// Every projection row of the cases, as text, in a stable order.
    func projections(_ caseIds: [UUID], on connection: PostgresConnection) throws -> [String] {
        let ids = PostgresArray(caseIds.map(\.postgresText))
        return try connection.query(
            """
            SELECT s::text FROM (SELECT case_id, council_id, reference, child_id, stage, caseworker, team, version, next_due_on, first_plan_on,
                                        last_review_on, final_20w_excepted FROM case_summary WHERE case_id = ANY($1::uuid[])) s
            UNION ALL
            SELECT d::text FROM (SELECT * FROM deadlines WHERE case_id = ANY($1::uuid[])) d
            ORDER BY 1
            """, [ids]
        ).rows.map { try $0.decode(String.self, at: 0) }
    }

    @Test("damaged rows come back exactly as written with the events; another council's cases are left alone")
    func rebuildRepairs() async throws {
        let pool = try database.pool()
        defer { pool.shutdown() }
        let other = try database.addCouncil(code: "OTHER")
        let caseload = DemoCaseload(seed: 3, asOf: CivilDate(iso: "2026-06-01")!, decider: repository.decider)
        var ours: [UUID] = []
        var theirs: [UUID] = []
        for index in 0..<8 {
            let demo = caseload.generate(index)
            let (caseId, owner) = (UUID(), index < 6 ? council : other)
            for recorded in demo.history {
                _ = try await repository.record(
                    CaseCommand(
                        council: owner, caseId: caseId,
                        command: LogEvent(recorded.event, on: recorded.occurredOn, by: recorded.actor, today: recorded.occurredOn),
                        opening: .init(reference: "REF-\(index)", childId: nil)), pool: pool)
            }
            if index < 6 { ours.append(caseId) } else { theirs.append(caseId) }
        }
        let connection = try database.connect()
        defer { connection.close() }
        let (before, theirsBefore) = (try projections(ours, on: connection), try projections(theirs, on: connection))
        #expect(before.count > 60)

        let damage = { (caseIds: [UUID]) in
            let ids = PostgresArray(caseIds.map(\.postgresText))
            try connection.query(
                "UPDATE case_summary SET stage = 'withdrawn', caseworker = 'Nobody', next_due_on = NULL WHERE case_id = ANY($1::uuid[])", [ids])
            try connection.query("DELETE FROM deadlines WHERE case_id = ANY($1::uuid[]) AND rule = 'R-DECIDE-6W'", [ids])
            try connection.query(
                "UPDATE deadlines SET due_on = due_on + 3, next_alert_on = NULL WHERE case_id = ANY($1::uuid[]) AND rule = 'R-FINAL-20W'", [ids])
            try connection.query(
                """
                INSERT INTO deadlines (case_id, council_id, rule, kind, key, start_version, started_on, due_on, status)
                SELECT case_id, council_id, 'R-BOGUS', 'duty', '', 1, '2025-01-01', '2025-02-01', 'open' FROM case_summary WHERE case_id = ANY($1::uuid[])
                """, [ids])
        }
        try damage(ours + theirs)
        #expect(try projections(ours, on: connection) != before)

        let done = try ProjectionRebuilder(engine: repository.decider.engine).rebuild(council: council, batchSize: 4, on: connection)
        #expect(done.cases == 6)
        #expect(try projections(ours, on: connection) == before)
        #expect(try projections(theirs, on: connection) != theirsBefore)

        // A migration that changes how clocks are computed leaves a note; the next start rebuilds every
        // council once and clears it.
        let rebuilder = ProjectionRebuilder(engine: repository.decider.engine)
        #expect(try rebuilder.rebuildIfStale(on: connection) == [])
        #expect(try projections(theirs, on: connection) != theirsBefore)
        try connection.query("INSERT INTO projections_stale (since_version, reason) VALUES (9, 'missed and expired clocks')")
        #expect(try rebuilder.rebuildIfStale(on: connection) == ["missed and expired clocks"])
        #expect(try projections(theirs, on: connection) == theirsBefore)
        #expect(try projections(ours, on: connection) == before)
        #expect(try connection.query("SELECT count(*) FROM projections_stale").first!.decode(Int.self, at: 0) == 0)
    }
}
