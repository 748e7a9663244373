import EHCPDemo
import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Postgres
import Testing

/// Every figure the reports compute from the projections equals a brute-force recomputation from the
/// events themselves (folded in Swift, deadlines from the engine), on a generated caseload.
@Suite("Reports equal a brute-force recomputation from the events")
struct BruteForceTests {
    @Test("K-20W in all four variants, K-DECIDE-6W and K-ADVICE-6W by month, and the breach report totals", arguments: [UInt64(5), 8])
    func matchesEvents(seed: UInt64) async throws {
        let harness = try ReportsHarness()
        defer { harness.shutdown() }
        let asOf = date("2026-06-30")
        let engine = harness.repository.decider.engine
        let caseload = DemoCaseload(seed: seed, asOf: asOf, councils: 1, decider: harness.repository.decider)
        let cases = (0..<400).map(caseload.generate)
        let owner = try harness.database.pool(size: 1, asApplication: false)
        defer { owner.shutdown() }
        let council = harness.council
        _ = try await owner.transaction(council: council) { connection in
            try BulkLoader(engine: engine).load(
                cases.map { BulkCase(caseId: $0.caseId, council: council, reference: $0.reference, child: $0.child, history: $0.history) },
                on: connection)
        }
        let states = cases.map { CaseState(history: $0.history) }
        let (from, to) = (date("2025-07-01"), date("2026-06-30"))

        for exceptions in [ExceptionsPolicy.excluded, .included] {
            for scope in [Scope.dfe, .all] {
                var numerator = 0
                var denominator = 0
                for state in states where state.facts.openedBy == .requestReceived {
                    let facts = ReportingFacts(state)
                    guard let first = facts.firstPlanOn, first >= from, first <= to else { continue }
                    // Every first plan of a new request counts, a plan after an overturned refusal too: the
                    // scopes differ only by mediation or an appeal (statutory-timescales.md §5).
                    let clock = state.deadlines(engine, asOf: asOf).deadlines.first { $0.rule == .final20W && $0.metOn == first }
                    #expect(clock != nil, "the first plan of \(state.facts.openedOn?.description ?? "?") meets a 20-week clock")
                    if exceptions == .excluded && !(clock?.exceptionIds.isEmpty ?? true) { continue }
                    // DfE scope, from the events: no mediation or appeal between the request and the plan.
                    let disputed = state.effective.contains { recorded in
                        switch recorded.event {
                        case .mediationRequested, .appealLodged: recorded.occurredOn <= first
                        default: false
                        }
                    }
                    if scope == .dfe && disputed { continue }
                    denominator += 1
                    // Within: issued no later than 20 weeks (140 days) after the request.
                    if let opened = state.facts.openedOn, first <= opened.adding(days: 140) { numerator += 1 }
                }
                let total = try await harness.read { connection in
                    try TimelinessReport().run(.init(measure: .final20W, from: from, to: to, exceptions: exceptions, scope: scope), on: connection)
                        .total
                }
                #expect(total.numerator == numerator && total.denominator == denominator, "K-20W \(exceptions) \(scope)")
                #expect(denominator > 20)
            }
        }

        for (measure, rule) in [(Measure.decide6W, RuleID.decide6W), (.advice6W, .advice6W)] {
            var byMonth: [String: (Int, Int)] = [:]
            for state in states {
                for clock in state.deadlines(engine, asOf: asOf).deadlines where clock.rule == rule && clock.exceptionIds.isEmpty {
                    guard let met = clock.metOn, met >= from, met <= to, clock.status != .cancelled else { continue }
                    let month = String(met.description.prefix(7))
                    byMonth[month, default: (0, 0)].1 += 1
                    if met <= clock.dueOn { byMonth[month, default: (0, 0)].0 += 1 }
                }
            }
            let rows = try await harness.read { connection in
                try TimelinessReport().run(.init(measure: measure, from: from, to: to), on: connection).rows
            }
            #expect(rows.map(\.group) == byMonth.keys.sorted(), "\(measure)")
            #expect(
                rows.map { "\($0.numerator)/\($0.denominator)" } == byMonth.keys.sorted().map { "\(byMonth[$0]!.0)/\(byMonth[$0]!.1)" }, "\(measure)")
        }

        var breached = 0
        var atRisk = 0
        var byRule: [String: Int] = [:]
        for state in states {
            for clock in state.deadlines(engine, asOf: asOf).deadlines where clock.rule.kind == .duty {
                if clock.status == .breached {
                    breached += 1
                    byRule[clock.rule.rawValue, default: 0] += 1
                }
                if clock.status == .open && clock.dueOn.days(until: asOf) >= -14 && clock.startedOn <= asOf { atRisk += 1 }
            }
        }
        let report = try await harness.read { connection in try BreachReport().run(BreachReport.Query(asOf: asOf), on: connection) }
        #expect(report.totals.breached == breached)
        #expect(report.totals.atRisk == atRisk)
        #expect(report.totals.byRule == byRule)
        #expect(report.totals.ageing.values.reduce(0, +) == breached)
        // Missed clocks: the case moved past them, overdue, in the 12 months to the as-of day.
        let missedFrom = BreachReport.Query(asOf: asOf).missedFrom
        let missed = states.flatMap { $0.deadlines(engine, asOf: asOf).deadlines }.filter {
            $0.status == .missed && ($0.movedPastOn.map { $0 >= missedFrom && $0 <= asOf } ?? false)
        }
        #expect(report.missed.total == missed.count)
        #expect(report.missed.total > 0)

        try await dfeMeasures(year: 2025, states: states, engine: engine, harness: harness)
    }

    /// The DfE's measures for a year, folded from each case's events (reviews, meetings and decisions from
    /// the case's facts; which review fell due from the engine's clocks).
    func dfeMeasures(year: Int, states: [CaseState], engine: DeadlineEngine, harness: ReportsHarness) async throws {
        let (start, end) = (CivilDate(year: year, month: 1, day: 1)!, CivilDate(year: year, month: 12, day: 31)!)
        let census = SEN2Export.censusDate(after: year)
        var (expected, notExpected, completed, meetings, within, over, sixWeeks, overSix) = (0, 0, 0, 0, 0, 0, 0, 0)
        var outcomes: [ReviewDecision: Int] = [:]
        for state in states {
            let facts = state.facts
            // The request's outcome: the first decision whether to assess after it (a later one follows a tribunal order).
            let decisions = state.effective.filter {
                switch $0.event {
                case .decidedToAssess, .decidedNotToAssess: true
                default: false
                }
            }
            if facts.openedBy == .requestReceived, let opened = facts.openedOn, let decided = decisions.map(\.occurredOn).min(), decided >= start,
                decided <= end
            {
                if decided <= opened.adding(days: 42) { sixWeeks += 1 } else { overSix += 1 }
            }
            guard let made = facts.planMadeOn, made <= census, facts.ceasedOn.map { $0 > census } ?? true,
                facts.transferredOutOn.map { $0 > census } ?? true
            else { continue }
            meetings += facts.reviews.values.filter { $0.meetingOn.map { $0 >= start && $0 <= end } ?? false }.count
            let due = state.deadlines(engine, asOf: census).deadlines.filter {
                ($0.rule == .review12M || $0.rule == .transferReview) && $0.status != .cancelled && $0.dueOn >= start && $0.dueOn <= end
            }.max { $0.dueOn < $1.dueOn }
            guard let due else {
                notExpected += 1
                continue
            }
            expected += 1
            guard let met = due.metOn, met <= end else { continue }
            completed += 1
            let review = facts.reviews.values.first { $0.decisionOn == met }
            if let decision = review?.decision { outcomes[decision, default: 0] += 1 }
            if let meeting = review?.meetingOn, met <= meeting.adding(days: 28) { within += 1 } else { over += 1 }
        }
        let result = try await harness.read { try DfEMeasures().run(year: year, on: $0) }
        let total = try #require(result.annualReviews.first)
        #expect(total.reviewExpected == expected && total.reviewNotExpected == notExpected)
        #expect(total.reviewCompleted == completed && total.reviewNotCompleted == expected - completed)
        #expect(total.meetingsHeld == meetings)
        #expect(total.outcomeAmended == outcomes[.amend, default: 0] && total.outcomeMaintained == outcomes[.maintain, default: 0])
        #expect(total.outcomeCeased == outcomes[.cease, default: 0])
        #expect(total.decision4Weeks == within && total.decisionOver4Weeks == over)
        #expect(result.requests.requestOutcomeSixWeeks == sixWeeks && result.requests.requestOutcomeOver6Weeks == overSix)
        #expect(expected > 20 && completed > 10 && meetings > 10 && sixWeeks > 10, "the caseload exercises the measures")
        // Every age group adds up to the total.
        #expect(result.annualReviews.dropFirst().map(\.reviewExpected).reduce(0, +) == expected)
    }
}
