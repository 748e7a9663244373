import EHCPDomain

/// One case's part in the DfE's measures for a calendar year (docs/reports.md, "The DfE's measures"),
/// computed from its deadline rows and stored on its summary (`case_summary.dfe_years`), so that the
/// summaries' trigger keeps `dfe_counts` (schema.sql) from the summary and the child's date of birth
/// alone. Whether the plan was in place at the January census after the year is left to that trigger,
/// which has the plan's dates; so is whether the case began with a request. `DfEMeasures` in
/// EHCPReports reads the same figures from the clocks themselves, and a test holds the two equal.
struct DfEYear: Equatable {
    var year: Int
    /// A review fell due in the year (reg 20, or the transfer review of reg 18), not cancelled.
    var expected = false
    /// That review (the latest, when two fell due) was met by 31 December.
    var completed = false
    /// Its decision, when completed: `maintain`, `amend` or `cease`.
    var outcome: String?
    /// Completed in the year, by a decision within 4 weeks of its meeting (reg 20(10)).
    var decidedWithin4Weeks = false
    /// Review meetings held in the year (R-REVIEW-DECIDE-4W falls due 28 days after its meeting).
    var meetings = 0
    /// Decisions whether to assess made in the year (reg 5(1)): within 6 weeks of the request, and later.
    var decidedWithin6Weeks = 0
    var decidedLater = 0
    /// Phase transfers due in the year (reg 18): by 15 February (school) and 31 March (post-16), and
    /// those finalised by then.
    var schoolDue = 0
    var schoolFinal = 0
    var post16Due = 0
    var post16Final = 0

    /// The years a case's rows take part in, in order.
    static func years(of rows: [DeadlineRow]) -> [DfEYear] {
        var years: [Int: DfEYear] = [:]
        func update(_ year: Int, _ change: (inout DfEYear) -> Void) {
            var entry = years[year] ?? DfEYear(year: year)
            change(&entry)
            years[year] = entry
        }
        // The latest review due in each year; of two due the same day, the first by rule, key and version.
        var latest: [Int: DeadlineRow] = [:]
        for row in rows where [.review12M, .transferReview].contains(row.identity.rule) && row.status != .cancelled {
            if let held = latest[row.dueOn.year], !Self.before(row, held) { continue }
            latest[row.dueOn.year] = row
        }
        let decisions = rows.filter { $0.identity.rule == .reviewDecide4W }
        for (year, review) in latest {
            update(year) { entry in
                entry.expected = true
                guard let metOn = review.metOn, metOn.year <= year else { return }
                entry.completed = true
                entry.outcome = review.reviewOutcome
                entry.decidedWithin4Weeks =
                    metOn.year == year && decisions.contains { $0.metOn == metOn && metOn <= $0.dueOn }
            }
        }
        for decision in decisions { update(decision.dueOn.adding(days: -28).year) { $0.meetings += 1 } }
        for row in rows where row.identity.rule == .decide6W {
            guard let metOn = row.metOn else { continue }
            update(metOn.year) { if metOn <= row.dueOn { $0.decidedWithin6Weeks += 1 } else { $0.decidedLater += 1 } }
        }
        for row in rows where [.phase15Feb, .phase31Mar].contains(row.identity.rule) && row.status != .cancelled {
            let final = row.metOn.map { $0 <= row.dueOn } ?? false
            update(row.dueOn.year) { entry in
                if row.identity.rule == .phase15Feb {
                    entry.schoolDue += 1
                    if final { entry.schoolFinal += 1 }
                } else {
                    entry.post16Due += 1
                    if final { entry.post16Final += 1 }
                }
            }
        }
        return years.values.sorted { $0.year < $1.year }
    }

    /// Whether `row` goes before `other` among reviews due in one year: due later, or due the same day
    /// and first by rule, key and start version (as `DfEMeasures` orders them).
    static func before(_ row: DeadlineRow, _ other: DeadlineRow) -> Bool {
        if row.dueOn != other.dueOn { return row.dueOn > other.dueOn }
        let (a, b) = (row.identity, other.identity)
        if a.rule != b.rule { return Array(a.rule.rawValue.utf8).lexicographicallyPrecedes(b.rule.rawValue.utf8) }
        if a.key != b.key { return Array(a.key.utf8).lexicographicallyPrecedes(b.key.utf8) }
        return a.startVersion < b.startVersion
    }

    /// The years as the `dfe_years` column holds them (read by `ehcp_dfe_changes_in`): short names, and
    /// nothing that is zero. Nil when the case takes part in no year's measures.
    static func json(_ years: [DfEYear]) -> String? {
        guard !years.isEmpty else { return nil }
        let entries = years.map { entry in
            var fields = ["\"y\":\(entry.year)"]
            func add(_ name: String, _ value: Int) { if value != 0 { fields.append("\"\(name)\":\(value)") } }
            add("e", entry.expected ? 1 : 0)
            add("c", entry.completed ? 1 : 0)
            if let outcome = entry.outcome, ["maintain", "amend", "cease"].contains(outcome) { fields.append("\"o\":\"\(outcome)\"") }
            add("w", entry.decidedWithin4Weeks ? 1 : 0)
            add("m", entry.meetings)
            add("dw", entry.decidedWithin6Weeks)
            add("dl", entry.decidedLater)
            add("sd", entry.schoolDue)
            add("sf", entry.schoolFinal)
            add("pd", entry.post16Due)
            add("pf", entry.post16Final)
            return "{" + fields.joined(separator: ",") + "}"
        }
        return "[" + entries.joined(separator: ",") + "]"
    }
}
