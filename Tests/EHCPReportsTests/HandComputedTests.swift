import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Postgres
import Testing

/// A small caseload whose figures were worked out by hand (dates counted on a calendar):
///
/// | case | request | decision | plan | days to plan | notes |
/// |---|---|---|---|---|---|
/// | A | 2025-01-06 | 2025-02-10 (35 d) | 2025-05-26 | 140 | exactly 20 weeks: within |
/// | B | 2025-01-06 | 2025-02-17 (42 d) | 2025-05-27 | 141 | one day late |
/// | C | 2025-01-13 | 2025-02-10 (28 d) | 2025-07-01 | 169 | 20-week exception recorded |
/// | D | 2025-01-20 | 2025-03-10 (49 d, late) | 2025-05-30 | 130 | mediation during the assessment |
/// | E | 2024-09-02 | 2024-10-07 | 2025-01-13 | 133 | across the year boundary |
/// | F | 2024-08-01 | 2024-09-05 | 2024-12-16 | 137 | issued in 2024: outside the period |
@Suite("Timeliness and breach reports against hand-computed figures")
struct HandComputedTests {
    static func load(_ harness: ReportsHarness) async throws {
        let plan = CaseEvent.finalPlanIssued(PlanIssued())
        try await harness.record("A", [(request, "2025-01-06"), (.decidedToAssess, "2025-02-10"), (plan, "2025-05-26")])
        try await harness.record("B", [(request, "2025-01-06"), (.decidedToAssess, "2025-02-17"), (plan, "2025-05-27")])
        try await harness.record(
            "C",
            [
                (request, "2025-01-13"), (.decidedToAssess, "2025-02-10"),
                (
                    .exceptionRecorded(
                        ExceptionRecorded(exceptionId: "x1", ground: .personalCircumstances, rules: [.final20W], reason: "family bereavement")),
                    "2025-05-01"
                ),
                (plan, "2025-07-01"),
            ], team: "South")
        try await harness.record(
            "D", [(request, "2025-01-20"), (.decidedToAssess, "2025-03-10"), (.mediationRequested, "2025-04-01"), (plan, "2025-05-30")])
        try await harness.record("E", [(request, "2024-09-02"), (.decidedToAssess, "2024-10-07"), (plan, "2025-01-13")])
        try await harness.record("F", [(request, "2024-08-01"), (.decidedToAssess, "2024-09-05"), (plan, "2024-12-16")])
    }

    @Test("K-20W: exactly 140 days is within; exceptions and DfE scope move the right cases; the year boundary counts the issue date")
    func final20W() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        try await Self.load(harness)
        let report = TimelinessReport()
        func figure(_ exceptions: ExceptionsPolicy, _ scope: Scope) async throws -> TimelinessReport.Row {
            try await harness.read { connection in
                try report.run(
                    .init(
                        measure: .final20W, from: date("2025-01-01"), to: date("2025-12-31"), grouping: .none, exceptions: exceptions, scope: scope),
                    on: connection
                ).total
            }
        }
        let headline = try await figure(.excluded, .dfe)
        #expect(headline.numerator == 2 && headline.denominator == 3)  // A, E within; B late; C excepted; D mediation
        #expect(headline.percent == 66.7)
        #expect(headline.averageWeeks == 19.7)  // (140 + 141 + 133) / 3 / 7
        #expect(headline.over52Weeks == 0)
        let withExceptions = try await figure(.included, .dfe)
        #expect(withExceptions.numerator == 2 && withExceptions.denominator == 4)
        let allScope = try await figure(.excluded, .all)
        #expect(allScope.numerator == 3 && allScope.denominator == 4)
        let everything = try await figure(.included, .all)
        #expect(everything.numerator == 3 && everything.denominator == 5)

        // G: refused on 10 February, the tribunal ordered an assessment on 2 June, plan on 1 September: 238
        // days from the request. "All" counts it, late; the DfE's scope leaves it out, as it had an appeal.
        try await harness.record(
            "G",
            [
                (request, "2025-01-06"), (.decidedNotToAssess, "2025-02-10"),
                (.appealLodged(AppealReference(appealType: .refusalToAssess)), "2025-02-20"),
                (.tribunalOrderMade(TribunalOrderMade(order: .assess)), "2025-06-02"), (.decidedToAssess, "2025-06-09"),
                (.draftPlanIssued, "2025-08-04"), (CaseEvent.finalPlanIssued(PlanIssued()), "2025-09-01"),
            ])
        let allWithG = try await figure(.included, .all)
        #expect(allWithG.numerator == 3 && allWithG.denominator == 6)
        let dfeWithG = try await figure(.included, .dfe)
        #expect(dfeWithG.numerator == 2 && dfeWithG.denominator == 4)

        let byMonth = try await harness.read { connection in
            try report.run(.init(measure: .final20W, from: date("2025-01-01"), to: date("2025-12-31")), on: connection).rows
        }
        #expect(byMonth.map(\.group) == ["2025-01", "2025-05"])
        #expect(byMonth.map(\.numerator) == [1, 1] && byMonth.map(\.denominator) == [1, 2])
        let cell = try await harness.read { connection in
            try report.trace(.init(measure: .final20W, from: date("2025-01-01"), to: date("2025-12-31")), group: "2025-05", on: connection)
        }
        #expect(cell.map(\.reference) == ["A", "B"])
        #expect(cell.map(\.within) == [true, false])
    }

    @Test("K-DECIDE-6W: 42 days is within, 49 is not; decisions count in the period they were made")
    func decide6W() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        try await Self.load(harness)
        let result = try await harness.read { connection in
            try TimelinessReport().run(.init(measure: .decide6W, from: date("2025-01-01"), to: date("2025-12-31"), grouping: .team), on: connection)
        }
        #expect(result.total.numerator == 3 && result.total.denominator == 4)  // A, B, C within; D late
        #expect(result.rows.map(\.group) == ["North", "South"])
        #expect(result.rows.map(\.numerator) == [2, 1] && result.rows.map(\.denominator) == [3, 1])
        let late = try await harness.read { connection in
            try TimelinessReport().trace(
                .init(measure: .decide6W, from: date("2025-01-01"), to: date("2025-12-31"), grouping: .team), group: "North", on: connection)
        }
        #expect(late.filter { !$0.within }.map(\.reference) == ["D"])
    }

    @Test("monthly targets follow the configured trajectory beside the actual figures")
    func targets() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        try await Self.load(harness)
        let targets = try Targets(json: Data(#"{"K-20W": {"2025-01": 50, "2025-05": 70, "2025-12": 100}}"#.utf8))
        let rows = try await harness.read { connection in
            try TimelinessReport(targets: targets).run(.init(measure: .final20W, from: date("2025-01-01"), to: date("2025-12-31")), on: connection)
                .rows
        }
        #expect(rows.map(\.target) == [50.0, 70.0])
        #expect(rows.map(\.percent) == [100.0, 50.0])
    }

    @Test("the breach report shows a deadline breached on the days it was overdue and unmet, and at risk before")
    func breaches() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        try await Self.load(harness)
        func run(_ asOf: String) async throws -> BreachReport.Result {
            try await harness.read { connection in
                var query = BreachReport.Query(asOf: date(asOf))
                query.rule = "R-DECIDE-6W"
                return try BreachReport().run(query, on: connection)
            }
        }
        // D's decision was due 3 March (request 20 January + 42 days) and made on 10 March.
        let before = try await run("2025-02-24")
        #expect(before.rows.filter { $0.reference == "D" }.map(\.state) == ["atRisk"])
        let during = try await run("2025-03-05")
        #expect(during.rows.map(\.reference) == ["D"])
        #expect(during.rows.first?.daysOverdue == 2 && during.rows.first?.state == "breached")
        #expect(during.totals.breached == 1 && during.totals.ageing["0-2"] == 1 && during.totals.byTeam["North"] == 1)
        let after = try await run("2025-03-11")
        #expect(after.rows.isEmpty && after.totals.breached == 0)
    }

    @Test("SEN2: the modules carry the year's activity and the census plans; week20 comes from the exception; bad records are reported")
    func sen2() async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        try await Self.load(harness)
        let result = try await harness.read { try SEN2Export().run(year: 2025, on: $0) }
        #expect(result.census == date("2026-01-15"))  // the third Thursday of January 2026
        let requests = result.modules.first { $0.name == "requests" }!
        #expect(requests.rows.count == 5)  // A–E; F had no activity in 2025 but its plan is active at the census
        // The 2026 codes: RequestSource 1 for a parent; outcomes Y/N/A/W; flags 0/1.
        let column = { (module: SEN2Export.Module, name: String) in module.rows.map { $0[module.header.firstIndex(of: name)!] } }
        #expect(column(requests, "rquestsource").allSatisfy { $0 == "1" })
        #expect(column(requests, "requestoutcome").allSatisfy { $0 == "Y" })
        #expect(column(requests, "requestmediation").allSatisfy { $0 == "0" || $0 == "1" })
        let assessments = result.modules.first { $0.name == "assessments" }!
        let week20 = assessments.header.firstIndex(of: "week20")!
        let mediation = assessments.header.firstIndex(of: "assessmentmediation")!
        #expect(assessments.rows.filter { $0[week20] == "1" }.count == 1)  // C
        #expect(assessments.rows.filter { $0[mediation] == "1" }.count == 1)  // D
        #expect(column(assessments, "assessmentoutcome").allSatisfy { $0 == "Y" })
        let active = result.modules.first { $0.name == "activeplans" }!
        #expect(active.rows.count == 6)
        #expect(result.modules.first { $0.name == "namedplans" }!.csv.hasPrefix("requesttableid,startdate,planres"))
        #expect(result.validation.allSatisfy { $0.item == "persontableid" })  // these cases have no child record
    }
}
