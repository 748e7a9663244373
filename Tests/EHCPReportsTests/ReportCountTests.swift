import EHCPDemo
import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Synchronization
import Testing

@testable import EHCPReports

/// The counts (schema.sql, `clock_counts`, `duty_counts`, `case_counts` and `dfe_counts`) give the same
/// figures as reading every clock and every case: for every timeliness measure, grouping they serve and
/// policy, for the breach report's totals as of days past and to come, with each filter, for the
/// caseload report over several periods and census days, and for the DfE's measures of three years;
/// however the rows were written: a bulk load, events recorded one by one, a reassignment to another
/// team, children's dates of birth changed, a fold, a rebuild.
@Suite("Report counts equal the clocks and cases they count")
struct ReportCountTests {
    let from = date("2024-12-01")
    let to = date("2026-06-30")

    /// Each figure from the counts beside the same figure read from the clocks. The DfE's measures are
    /// counted from each case's years on its summary, which the projector writes with its clocks: `dfe`
    /// false leaves them out when a test writes clocks by hand.
    func mismatches(_ harness: ReportsHarness, dfe: Bool = true) async throws -> [String] {
        var queries: [TimelinessReport.Query] = []
        for measure in Measure.allCases {
            for grouping in [Grouping.none, .month, .team] {
                for exceptions in ExceptionsPolicy.allCases {
                    for scope in measure == .final20W ? Scope.allCases : [.dfe] {
                        queries.append(.init(measure: measure, from: from, to: to, grouping: grouping, exceptions: exceptions, scope: scope))
                    }
                }
            }
        }
        let all = queries
        let periods = [(from, to, to), (date("2025-04-01"), date("2026-03-31"), date("2026-01-15")), (date("2020-01-01"), to, date("2023-06-30"))]
        return try await harness.read { connection in
            var differ: [String] = []
            for (from, to, census) in periods {
                let counted = try CaseloadReport().run(from: from, to: to, census: census, on: connection)
                let direct = try CaseloadReport().direct(from: from, to: to, census: census, on: connection)
                if counted != direct { differ.append("caseload \(from)–\(to) census \(census): \(counted) ≠ \(direct)") }
            }
            for query in all {
                let (counted, direct) = (try TimelinessReport().counted(query, on: connection), try TimelinessReport().direct(query, on: connection))
                if counted != direct {
                    differ.append(
                        "\(query.measure) \(query.grouping) \(query.exceptions) \(query.scope): \(counted.rows) \(counted.total) ≠ \(direct.rows) \(direct.total)"
                    )
                }
            }
            for asOf in [date("2025-06-30"), date("2026-03-02"), date("2026-06-30"), date("2026-09-01")] {
                for (rule, team, caseworker) in [(nil, nil, nil), ("R-REVIEW-12M", nil, nil), (nil, "Moved", nil), (nil, nil, "Kim")]
                    as [(String?, String?, String?)]
                {
                    var query = BreachReport.Query(asOf: asOf)
                    (query.rule, query.team, query.caseworker) = (rule, team, caseworker)
                    let report = BreachReport()
                    let (counted, direct) = (
                        try report.totals(query, from: .counts, on: connection), try report.totals(query, from: .duties, on: connection)
                    )
                    if counted != direct { differ.append("breaches as of \(asOf) \([rule, team, caseworker]): \(counted) ≠ \(direct)") }
                    let (missed, missedDirect) = (
                        try report.missed(query, from: .counts, on: connection), try report.missed(query, from: .duties, on: connection)
                    )
                    if missed != missedDirect { differ.append("missed as of \(asOf) \([rule, team, caseworker]): \(missed) ≠ \(missedDirect)") }
                }
            }
            for year in dfe ? [2024, 2025, 2026] : [] {
                let measures = DfEMeasures()
                let counted = measures.result(year: year, try measures.counted(year: year, on: connection))
                let direct = measures.result(year: year, try measures.direct(year: year, on: connection))
                if counted != direct { differ.append("DfE measures \(year): \(counted) ≠ \(direct)") }
            }
            return differ
        }
    }

    func count(_ sql: String, _ harness: ReportsHarness) async throws -> Int {
        try await harness.read { try $0.query(sql).first!.decode(Int.self, at: 0) }
    }

    @Test("after a bulk load, live writes, reassignments, a fold and a rebuild")
    func countsEqualClocks() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        let asOf = date("2026-06-30")
        let engine = harness.repository.decider.engine
        let caseload = DemoCaseload(seed: 3, asOf: asOf, councils: 1, decider: harness.repository.decider)
        let council = harness.council
        let owner = try harness.database.pool(size: 1, asApplication: false)
        defer { owner.shutdown() }

        // A bulk load (the owner's COPY, which counts the clocks itself when the triggers are off).
        let loaded = (0..<300).map(caseload.generate)
        _ = try await owner.transaction(council: council) { connection in
            try BulkLoader(engine: engine).load(
                loaded.map { BulkCase(caseId: $0.caseId, council: council, reference: $0.reference, child: $0.child, history: $0.history) },
                on: connection)
        }
        #expect(try await mismatches(harness) == [])
        // Every measure has clocks in the period, so each of the trigger's rules is exercised.
        for measure in Measure.allCases {
            let total = try await harness.read { try TimelinessReport().direct(.init(measure: measure, from: self.from, to: self.to), on: $0).total }
            #expect(total.denominator > 0, "\(measure) has clocks to count")
        }
        // … and so does the breach report.
        let breaches = try await harness.read { try BreachReport().run(.init(asOf: asOf), on: $0) }
        #expect(breaches.totals.breached > 0 && breaches.totals.atRisk > 0 && breaches.missed.total > 0)
        // … and the DfE's measures, in more than one age.
        let dfe = try await harness.read { try DfEMeasures().run(year: 2025, on: $0) }
        let reviews = dfe.annualReviews[0]
        #expect(dfe.annualReviews.count > 2 && reviews.reviewExpected > 0 && reviews.reviewNotExpected > 0 && reviews.reviewCompleted > 0)
        #expect(reviews.meetingsHeld > 0 && reviews.decision4Weeks > 0 && reviews.outcomeMaintained + reviews.outcomeAmended > 0)
        #expect(dfe.phaseTransfers.last!.due > 0 && dfe.requests.requestOutcomeSixWeeks > 0)

        // Events recorded one at a time through the repository: the trigger counts each change.
        for live in (300..<340).map(caseload.generate) {
            for recorded in live.history {
                _ = try await harness.repository.record(
                    CaseCommand(
                        council: council, caseId: live.caseId,
                        command: LogEvent(recorded.event, on: recorded.occurredOn, by: "test", today: recorded.occurredOn),
                        opening: .init(reference: live.reference, childId: nil)), pool: harness.pool)
            }
        }
        #expect(try await count("SELECT count(*) FROM clock_count_changes", harness) > 0)
        #expect(try await mismatches(harness) == [])

        // A reassignment to another team moves the case's counted clocks to that team.
        for moved in loaded.prefix(40) {
            _ = try await harness.repository.record(
                CaseCommand(
                    council: council, caseId: moved.caseId,
                    command: LogEvent(.caseworkerAssigned(CaseworkerAssigned(caseworker: "Kim", team: "Moved")), on: asOf, by: "test", today: asOf)),
                pool: harness.pool)
        }
        let movedTeam = try await harness.read { connection in
            try TimelinessReport().run(.init(measure: .decide6W, from: self.from, to: self.to, grouping: .team), on: connection).rows
        }
        #expect(movedTeam.contains { $0.group == "Moved" && $0.denominator > 0 })
        #expect(try await mismatches(harness) == [])

        // A child's date of birth corrected by more than a year, and another child's erased, move their
        // cases to another age.
        try await harness.read { connection in
            try connection.execute(
                "UPDATE children SET born_on = born_on - 400 WHERE child_id IN (SELECT child_id FROM children ORDER BY child_id LIMIT 30)")
            try connection.execute(
                "UPDATE children SET born_on = NULL WHERE child_id IN (SELECT child_id FROM children ORDER BY child_id DESC LIMIT 10)")
        }
        #expect(try await mismatches(harness) == [])

        // A fold empties the changes and changes no figure.
        let folded = try await harness.read { try ReportCounts().fold(on: $0) }
        #expect(folded > 0)
        #expect(try await count("SELECT count(*) FROM clock_count_changes", harness) == 0)
        // Counts that fell to zero (duties all met since) go with it.
        #expect(try await count("SELECT count(*)::int FROM duty_counts WHERE duties = 0", harness) == 0)
        #expect(try await mismatches(harness) == [])

        // A rebuild takes every clock away and adds it back.
        let before = try await count("SELECT sum(clocks)::int FROM clock_counts", harness)
        _ = try await owner.withConnection { try ProjectionRebuilder(engine: engine).rebuild(council: council, on: $0) }
        #expect(try await count("SELECT sum(clocks)::int FROM clock_counts", harness) == before)
        #expect(try await mismatches(harness) == [])

        // A TRUNCATE by hand takes the counts with the rows (the DfE's with the summaries).
        let truncating = try harness.database.connect()
        defer { truncating.close() }
        try truncating.execute("TRUNCATE deadlines, case_summary")
        #expect(try await count("SELECT count(*)::int FROM clock_counts", harness) == 0)
        #expect(try await count("SELECT count(*)::int FROM dfe_counts", harness) == 0)
        #expect(try await mismatches(harness) == [])
    }

    @Test("two writers counting the same day and team never wait for each other, and both are counted")
    func writersDoNotWait() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        for reference in ["EHC-1", "EHC-2"] { try await harness.record(reference, [(request, "2025-03-03")]) }
        let (first, second) = (try harness.database.connect(), try harness.database.connect())
        defer {
            first.close()
            second.close()
        }
        // Both decisions fall on the same day in the same team: the same count.
        let decide =
            "UPDATE deadlines d SET met_on = '2025-03-20' FROM case_summary s WHERE s.case_id = d.case_id AND s.reference = $1 AND d.rule = 'R-DECIDE-6W'"
        try first.execute("BEGIN")
        try first.query(decide, ["EHC-1"])
        // The first has not committed. The second would fail after a second if it had to wait for it.
        try second.execute("SET lock_timeout = '1s'")
        try second.query(decide, ["EHC-2"])
        try first.execute("COMMIT")
        let counted = try await harness.read { connection in
            try TimelinessReport().run(.init(measure: .decide6W, from: self.from, to: self.to), on: connection).total
        }
        #expect(counted.numerator == 2 && counted.denominator == 2)
        #expect(try await mismatches(harness, dfe: false) == [])
    }

    @Test("the DfE counts' census day is SEN2's, and a cohort gives the age on 31 August that the direct query computes")
    func censusAndCohort() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        let censuses = try await harness.read { connection in
            try connection.query(
                "SELECT y, ehcp_census(y)::text, ehcp_census_year(ehcp_census(y)), ehcp_census_year(ehcp_census(y) + 1) FROM generate_series(2000, 2040) y"
            )
            .rows.map {
                [try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(Int.self, at: 2), try $0.decode(Int.self, at: 3)]
                    as [any Sendable]
            }
        }
        for census in censuses {
            let year = census[0] as! Int
            #expect(census[1] as! String == SEN2Export.censusDate(after: year).description)
            // A census day counts towards its own year, and the day after it towards the next.
            #expect(census[2] as! Int == year && census[3] as! Int == year + 1)
        }
        // Every birthday over four years (31 August, 29 February) against PostgreSQL's age(), in the DfE's
        // age groups (DfEMeasures.ageGroup: 2 and under, each year to 19, 20 and over).
        let differ = try await harness.read { connection in
            try connection.query(
                """
                SELECT count(*)::int FROM generate_series('2008-01-01'::date, '2011-12-31'::date, '1 day') b, generate_series(2008, 2032) y
                WHERE least(greatest(date_part('year', age(make_date(y, 8, 31), b::date))::int, 2), 20)
                   <> least(greatest(y - ehcp_cohort(b::date), 2), 20)
                """
            ).first!.decode(Int.self, at: 0)
        }
        #expect(differ == 0)
    }

    @Test("a child's date of birth corrected while one of their cases is being written moves the summary the writer counted")
    func childCorrectedDuringWrite() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        let caseload = DemoCaseload(seed: 5, asOf: date("2026-06-30"), councils: 1, decider: harness.repository.decider)
        let council = harness.council
        let owner = try harness.database.pool(size: 1, asApplication: false)
        defer { owner.shutdown() }
        let loaded = (0..<60).map(caseload.generate)
        _ = try await owner.transaction(council: council) { connection in
            try BulkLoader(engine: harness.repository.decider.engine).load(
                loaded.map { BulkCase(caseId: $0.caseId, council: council, reference: $0.reference, child: $0.child, history: $0.history) },
                on: connection)
        }
        let (writer, corrector, watcher) = (try harness.database.connect(), try harness.database.connect(), try harness.database.connect())
        defer {
            writer.close()
            corrector.close()
            watcher.close()
        }
        let planned = try #require(
            try writer.query(
                """
                SELECT case_id::text, child_id::text FROM case_summary
                WHERE plan_made_on <= '2024-06-01' AND ceased_on IS NULL AND transferred_out_on IS NULL AND child_id IS NOT NULL LIMIT 1
                """
            ).first)
        let (caseId, childId) = (try planned.decode(String.self, at: 0), try planned.decode(String.self, at: 1))
        // A writer ends the plan (and counts the case in the child's cohort as it stands) and has not committed.
        try writer.execute("BEGIN")
        try writer.query("UPDATE case_summary SET ceased_on = '2025-03-03' WHERE case_id = $1::uuid", [caseId])
        // Meanwhile the child's date of birth is corrected by more than a year.
        let corrected = Mutex(false)
        let correcting = Task.detached {
            try corrector.query("UPDATE children SET born_on = born_on - 400 WHERE child_id = $1::uuid", [childId])
            corrected.withLock { $0 = true }
        }
        // The correction waits for the writer (or, wrongly, does not).
        while !corrected.withLock({ $0 }) {
            let waiting = try watcher.query(
                "SELECT count(*)::int FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE children%'"
            ).first!.decode(Int.self, at: 0)
            if waiting > 0 { break }
            await Task.yield()
        }
        try writer.execute("COMMIT")
        try await correcting.value
        #expect(try await mismatches(harness) == [])
    }
}
