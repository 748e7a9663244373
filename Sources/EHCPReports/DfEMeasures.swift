import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// The measures the DfE publishes for every council in its "Education, health and care plans"
/// statistics (from the 2026 release), for one calendar year, with the DfE's variable names
/// (docs/reports.md, "The DfE's measures", gives each definition):
/// - annual reviews of the plans in place at the January census after the year, in total and by age at
///   31 August of the year;
/// - phase transfers due in the year and finalised by the statutory date (reg 18);
/// - requests whose outcome was decided within 6 weeks (reg 5(1)).
/// England's published figures for the same year sit beside them when the DfE has published them.
/// The figures are sums of the DfE counts (`counted`); `direct` reads the same from every plan and clock.
public struct DfEMeasures: Sendable {
    public enum Table: String, Sendable, CaseIterable, Codable {
        case annualReviews = "annual_reviews"
        case phaseTransfers = "phase_transfers"
        case requests
    }

    /// One breakdown of the annual-review measures.
    public struct AnnualReviews: Sendable, Hashable, Codable {
        public var breakdown: String
        public var reviewExpected = 0
        public var reviewNotExpected = 0
        public var reviewCompleted = 0
        public var reviewNotCompleted = 0
        public var meetingsHeld = 0
        public var outcomeAmended = 0
        public var outcomeMaintained = 0
        public var outcomeCeased = 0
        public var noOutcomeRecorded = 0
        public var decision4Weeks = 0
        public var decisionOver4Weeks = 0

        init(breakdown: String) { self.breakdown = breakdown }

        /// The DfE's variable names, in JSON as in the CSV.
        enum CodingKeys: String, CodingKey {
            case breakdown
            case reviewExpected = "review_expected"
            case reviewNotExpected = "review_not_expected"
            case reviewCompleted = "review_completed"
            case reviewNotCompleted = "review_not_completed"
            case meetingsHeld = "meetings_held"
            case outcomeAmended = "outcome_amended"
            case outcomeMaintained = "outcome_maintained"
            case outcomeCeased = "outcome_ceased"
            case noOutcomeRecorded = "no_outcome_recorded"
            case decision4Weeks = "decision_4_weeks"
            case decisionOver4Weeks = "decision_over_4_weeks"
        }

        static let variables = [
            "review_expected", "review_not_expected", "review_completed", "review_not_completed", "meetings_held", "outcome_amended",
            "outcome_maintained", "outcome_ceased", "no_outcome_recorded", "decision_4_weeks", "decision_over_4_weeks",
        ]
        var values: [Int] {
            [
                reviewExpected, reviewNotExpected, reviewCompleted, reviewNotCompleted, meetingsHeld, outcomeAmended, outcomeMaintained,
                outcomeCeased, noOutcomeRecorded, decision4Weeks, decisionOver4Weeks,
            ]
        }
    }

    /// Plans whose phase transfer (reg 18) was due in the year, and those finalised by the statutory date.
    public struct PhaseTransfers: Sendable, Hashable, Codable {
        /// `school transfer (15 February)`, `post-16 transfer (31 March)` or `Total`.
        public var breakdown: String
        public var due = 0
        public var finalByDeadline = 0
    }

    public struct Requests: Sendable, Hashable, Codable {
        public var requestOutcomeSixWeeks = 0
        public var requestOutcomeOver6Weeks = 0
        public var requestOutcomeSixWeeksPc: Double?

        enum CodingKeys: String, CodingKey {
            case requestOutcomeSixWeeks = "request_outcome_six_weeks"
            case requestOutcomeOver6Weeks = "request_outcome_over_6_weeks"
            case requestOutcomeSixWeeksPc = "request_outcome_six_weeks_pc"
        }
    }

    public struct Result: Sendable, Hashable, Codable {
        public var year: Int
        public var census: CivilDate
        public var annualReviews: [AnnualReviews]
        public var phaseTransfers: [PhaseTransfers]
        public var requests: Requests
        /// England's published figures for the year: each variable beside the council's where published.
        public var england: England
    }

    public struct England: Sendable, Hashable, Codable {
        public var annualReviews: EnglandFigures.AnnualReviews?
        public var requestOutcomeSixWeeksPercent: Double?
        public var sources: [String]
    }

    public var englandFigures: EnglandFigures

    public init(england: EnglandFigures = .shipped) { self.englandFigures = england }

    /// The DfE's age groups at 31 August: 2 and under, single years 3 to 19, 20 and over (nil: unknown).
    static func ageGroup(_ age: Int?) -> Int? { age.map { min(max($0, 2), 20) } }

    static func ageLabel(_ group: Int?) -> String {
        switch group {
        case nil: "age unknown"
        case 2: "aged 2 and under"
        case 20: "aged 20 and over"
        case let age?: "aged \(age)"
        }
    }

    /// The figures the tables are made of: per age on 31 August (nil: unknown), the plans in place at the
    /// census and their reviews; the phase transfers by rule; and the decisions whether to assess.
    struct Figures {
        struct Age {
            var age: Int?
            var expected = 0
            var notExpected = 0
            var completed = 0
            var meetings = 0
            var amended = 0
            var maintained = 0
            var ceased = 0
            var within = 0
        }
        var ages: [Age] = []
        /// Due and finalised by the statutory date, by rule.
        var transfers: [String: (due: Int, final: Int)] = [:]
        var decidedWithin = 0
        var decidedLater = 0
    }

    public func run(year: Int, on connection: PostgresConnection) throws(PostgresError) -> Result {
        result(year: year, try counted(year: year, on: connection))
    }

    /// The figures from the DfE counts (schema.sql, `dfe_counts`): a few rows per birth cohort and year,
    /// however many plans the council holds. Equal to `direct` (ReportCountTests).
    func counted(year: Int, on connection: PostgresConnection) throws(PostgresError) -> Figures {
        let inYear = [
            "expected", "completed", "meetings", "amended", "maintained", "ceased", "within_4w", "decided_within", "decided_later", "school_due",
            "school_final", "post16_due", "post16_final",
        ].map { "coalesce(sum(k.\($0)) FILTER (WHERE k.year = $1), 0)::int" }
        var figures = Figures()
        var transfers = [0, 0, 0, 0]
        // Plans in place at the census: made by then (counted by the year of the first census on or after
        // the day) less those ended by then.
        for row in try connection.query(
            """
            SELECT $1::int - k.cohort, sum(k.placed - k.unplaced)::int, \(inYear.joined(separator: ", "))
            FROM (SELECT * FROM dfe_counts UNION ALL SELECT * FROM dfe_count_changes) k
            WHERE k.year <= $1
            GROUP BY k.cohort
            """, [year]
        ).rows {
            let values = try (1...14).map { index throws(PostgresError) in try row.decode(Int.self, at: index) }
            if values[0] != 0 {
                figures.ages.append(
                    .init(
                        age: try row.decodeIfPresent(Int.self, at: 0), expected: values[1], notExpected: values[0] - values[1], completed: values[2],
                        meetings: values[3], amended: values[4], maintained: values[5], ceased: values[6], within: values[7]))
            }
            figures.decidedWithin += values[8]
            figures.decidedLater += values[9]
            for index in 0..<4 { transfers[index] += values[10 + index] }
        }
        figures.transfers = ["R-PHASE-15FEB": (transfers[0], transfers[1]), "R-PHASE-31MAR": (transfers[2], transfers[3])]
        return figures
    }

    /// The figures from the plans and clocks themselves: every plan in place at the census with its
    /// child's age and its year's reviews, decisions and meetings.
    func direct(year: Int, on connection: PostgresConnection) throws(PostgresError) -> Figures {
        let (start, end) = (CivilDate(year: year, month: 1, day: 1)!, CivilDate(year: year, month: 12, day: 31)!)
        let census = SEN2Export.censusDate(after: year)
        let august = CivilDate(year: year, month: 8, day: 31)!
        var figures = Figures()
        // Per age on 31 August, over the plans in place at the census: the review that fell due in the year
        // (the latest, when two did), whether and how it was completed by 31 December, whether its decision
        // came within 4 weeks of its meeting, and the meetings held in the year. Set-based over the
        // covering indexes of rule and due date, and rule and date met, so its cost follows the year's
        // reviews, not a lookup per plan.
        // Every plan at the census with its year's review, decision and meetings: hundreds of thousands of
        // rows at national scale, sorted and hashed in memory rather than on disk (4 MB by default).
        try connection.execute("SET LOCAL work_mem = '64MB'")
        let rows = try connection.query(
            """
            WITH plans AS (
                SELECT s.case_id, date_part('year', age($4::date, c.born_on))::int AS age
                FROM case_summary s LEFT JOIN children c ON c.child_id = s.child_id
                WHERE s.plan_made_on <= $3::date AND (s.ceased_on IS NULL OR s.ceased_on > $3::date)
                  AND (s.transferred_out_on IS NULL OR s.transferred_out_on > $3::date)
            ), due AS (
                SELECT DISTINCT ON (d.case_id) d.case_id, d.met_on, d.review_outcome FROM deadlines d
                WHERE d.rule IN ('R-REVIEW-12M', 'R-TRANSFER-REVIEW') AND d.status <> 'cancelled' AND d.due_on BETWEEN $1::date AND $2::date
                ORDER BY d.case_id, d.due_on DESC, d.rule COLLATE "C", d.key COLLATE "C", d.start_version
            ), decided AS (
                SELECT d.case_id, d.met_on, bool_or(d.met_on <= d.due_on) AS within FROM deadlines d
                WHERE d.rule = 'R-REVIEW-DECIDE-4W' AND d.met_on BETWEEN $1::date AND $2::date
                GROUP BY d.case_id, d.met_on
            ), meetings AS (
                SELECT d.case_id, count(*)::int AS held FROM deadlines d
                -- Held in the year: R-REVIEW-DECIDE-4W falls due 28 days after its meeting.
                WHERE d.rule = 'R-REVIEW-DECIDE-4W' AND d.due_on BETWEEN $1::date + 28 AND $2::date + 28
                GROUP BY d.case_id
            ), counted AS (
                SELECT p.age, r.case_id IS NOT NULL AS expected, r.met_on IS NOT NULL AND r.met_on <= $2::date AS completed,
                       r.review_outcome AS outcome, coalesce(m.within, false) AS within, coalesce(h.held, 0) AS held
                FROM plans p
                LEFT JOIN due r ON r.case_id = p.case_id
                LEFT JOIN decided m ON m.case_id = p.case_id AND m.met_on = r.met_on
                LEFT JOIN meetings h ON h.case_id = p.case_id
            )
            SELECT age, count(*) FILTER (WHERE expected)::int, count(*) FILTER (WHERE NOT expected)::int,
                   count(*) FILTER (WHERE completed)::int, sum(held)::int,
                   count(*) FILTER (WHERE completed AND outcome = 'amend')::int, count(*) FILTER (WHERE completed AND outcome = 'maintain')::int,
                   count(*) FILTER (WHERE completed AND outcome = 'cease')::int, count(*) FILTER (WHERE completed AND within)::int
            FROM counted GROUP BY age
            """, [start.description, end.description, census.description, august.description])
        for row in rows.rows {
            figures.ages.append(
                .init(
                    age: try row.decodeIfPresent(Int.self, at: 0), expected: try row.decode(at: 1), notExpected: try row.decode(at: 2),
                    completed: try row.decode(at: 3), meetings: try row.decode(at: 4), amended: try row.decode(at: 5),
                    maintained: try row.decode(at: 6), ceased: try row.decode(at: 7), within: try row.decode(at: 8)))
        }
        // Reg 18: transfers due in the year (school by 15 February, post-16 by 31 March), finalised by then.
        figures.transfers = ["R-PHASE-15FEB": (0, 0), "R-PHASE-31MAR": (0, 0)]
        for row in try connection.query(
            """
            SELECT rule, count(*)::int, count(*) FILTER (WHERE met_on IS NOT NULL AND met_on <= due_on)::int FROM deadlines
            WHERE rule IN ('R-PHASE-15FEB', 'R-PHASE-31MAR') AND status <> 'cancelled' AND due_on BETWEEN $1::date AND $2::date
            GROUP BY rule
            """, [start.description, end.description]
        ).rows {
            figures.transfers[try row.decode(String.self, at: 0)] = (try row.decode(at: 1), try row.decode(at: 2))
        }
        // Reg 5(1): requests (not councils becoming responsible) whose decision whether to assess was made
        // in the year, within 6 weeks of the request or later.
        if let row = try connection.query(
            """
            SELECT count(*) FILTER (WHERE d.met_on <= d.due_on)::int, count(*) FILTER (WHERE d.met_on > d.due_on)::int
            FROM deadlines d JOIN case_summary s USING (case_id)
            WHERE d.rule = 'R-DECIDE-6W' AND d.met_on BETWEEN $1::date AND $2::date AND s.opened_by = 'RequestReceived'
            """, [start.description, end.description]
        ).first {
            (figures.decidedWithin, figures.decidedLater) = (try row.decode(at: 0), try row.decode(at: 1))
        }
        return figures
    }

    /// The tables from the figures, with England's beside them.
    func result(year: Int, _ figures: Figures) -> Result {
        var total = AnnualReviews(breakdown: "Total")
        var byAge: [Int?: AnnualReviews] = [:]
        for figure in figures.ages {
            let group = Self.ageGroup(figure.age)
            for index in 0..<2 {
                var counts = index == 0 ? total : byAge[group] ?? AnnualReviews(breakdown: Self.ageLabel(group))
                counts.reviewExpected += figure.expected
                counts.reviewNotExpected += figure.notExpected
                counts.reviewCompleted += figure.completed
                counts.reviewNotCompleted += figure.expected - figure.completed
                counts.meetingsHeld += figure.meetings
                counts.outcomeAmended += figure.amended
                counts.outcomeMaintained += figure.maintained
                counts.outcomeCeased += figure.ceased
                counts.noOutcomeRecorded += figure.completed - figure.amended - figure.maintained - figure.ceased
                // A decision with no meeting recorded cannot show it came within 4 weeks of one.
                counts.decision4Weeks += figure.within
                counts.decisionOver4Weeks += figure.completed - figure.within
                if index == 0 { total = counts } else { byAge[group] = counts }
            }
        }
        let ages = byAge.sorted { ($0.key ?? 99) < ($1.key ?? 99) }.map(\.value)

        let phases = [
            PhaseTransfers(
                breakdown: "school transfer (15 February)", due: figures.transfers["R-PHASE-15FEB"]?.due ?? 0,
                finalByDeadline: figures.transfers["R-PHASE-15FEB"]?.final ?? 0),
            PhaseTransfers(
                breakdown: "post-16 transfer (31 March)", due: figures.transfers["R-PHASE-31MAR"]?.due ?? 0,
                finalByDeadline: figures.transfers["R-PHASE-31MAR"]?.final ?? 0),
        ]
        var phaseTotal = PhaseTransfers(breakdown: "Total")
        for phase in phases {
            phaseTotal.due += phase.due
            phaseTotal.finalByDeadline += phase.finalByDeadline
        }

        var requests = Requests()
        requests.requestOutcomeSixWeeks = figures.decidedWithin
        requests.requestOutcomeOver6Weeks = figures.decidedLater
        let all = figures.decidedWithin + figures.decidedLater
        if all > 0 { requests.requestOutcomeSixWeeksPc = (1000 * Double(figures.decidedWithin) / Double(all)).rounded() / 10 }

        let englandReviews = englandFigures.annualReviews.first { $0.year == year }
        let englandRequests = englandFigures.figure(.decide6W, exceptions: .excluded, year: year)
        let sources = [englandReviews?.source, englandRequests?.source].compactMap { $0 }.map { englandFigures.sources[$0] ?? $0 }
        return Result(
            year: year, census: SEN2Export.censusDate(after: year), annualReviews: [total] + ages, phaseTransfers: phases + [phaseTotal],
            requests: requests,
            england: England(annualReviews: englandReviews, requestOutcomeSixWeeksPercent: englandRequests?.percent, sources: sources))
    }
}

extension DfEMeasures.Result {
    /// One table as CSV with the DfE's variable names; `time_period` and the breakdown lead each row.
    public func csv(_ table: DfEMeasures.Table) -> String {
        let period = String(year)
        switch table {
        case .annualReviews:
            return CSV.render(
                header: ["time_period", "breakdown"] + DfEMeasures.AnnualReviews.variables,
                rows: annualReviews.map { [period, $0.breakdown] + $0.values.map(String.init) })
        case .phaseTransfers:
            let suffix = String(period.suffix(2))
            return CSV.render(
                header: ["time_period", "breakdown", "due_\(suffix)", "final_\(suffix)"],
                rows: phaseTransfers.map { [period, $0.breakdown, String($0.due), String($0.finalByDeadline)] })
        case .requests:
            return CSV.render(
                header: ["time_period", "request_outcome_six_weeks", "request_outcome_over_6_weeks", "request_outcome_six_weeks_pc"],
                rows: [
                    [
                        period, String(requests.requestOutcomeSixWeeks), String(requests.requestOutcomeOver6Weeks),
                        requests.requestOutcomeSixWeeksPc.map { String($0) },
                    ]
                ])
        }
    }
}
