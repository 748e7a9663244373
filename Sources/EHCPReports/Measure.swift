import EHCPDomain

/// The timeliness measures of statutory-timescales.md §5, each computed from the deadlines projection:
/// a measure counts the clocks of its rule(s) that fall in the period, and "within" means the clock was
/// met on or before its due date (which the engine computed with the §1 conventions).
public enum Measure: String, Sendable, CaseIterable, Codable {
    /// % new plans issued within 20 weeks of the request (first final plan; reg 13(2)).
    case final20W = "K-20W"
    /// % decisions whether to assess within 6 weeks (reg 5(1)).
    case decide6W = "K-DECIDE-6W"
    /// % advice returned within 6 weeks (reg 8(1)), by advice type and provider.
    case advice6W = "K-ADVICE-6W"
    /// % notices of a decision not to issue a plan within 16 weeks (reg 10(1)).
    case noPlan16W = "K-NOPLAN-16W"
    /// % annual reviews completed within 12 months (CFA 2014 s.44(1)): reviews due in the period.
    case review12M = "K-REVIEW-12M"
    /// % review decisions within 4 weeks of the meeting (reg 20(10)).
    case reviewDecide4W = "K-REVIEW-DECIDE-4W"
    /// % amended plans within 8 weeks of the amendment notice (reg 22(3)).
    case amend8W = "K-AMEND-8W"
    /// % phase transfers completed by 15 February / 31 March (reg 18), by transfer year.
    case phase = "K-PHASE"

    var rules: [RuleID] {
        switch self {
        case .final20W: [.final20W]
        case .decide6W: [.decide6W]
        case .advice6W: [.advice6W]
        case .noPlan16W: [.noPlan16W]
        case .review12M: [.review12M]
        case .reviewDecide4W: [.reviewDecide4W]
        case .amend8W: [.amendFinal8W]
        case .phase: [.phase15Feb, .phase31Mar]
        }
    }

    /// Which date puts a clock in the period: when it was met (issued, decided, returned) or, for
    /// reviews and transfers, when it was due (so unmet ones count against the period).
    var byDueDate: Bool { self == .review12M || self == .phase }
}

/// How to split a measure.
public enum Grouping: String, Sendable, CaseIterable, Codable {
    case none, month, team, caseworker, adviceType, provider, phase

    /// The SQL expression (over `d` deadlines, `s` case_summary, `c` children) for a group's label.
    func expression(dateColumn: String) -> String {
        switch self {
        case .none: "'all'"
        case .month: "to_char(\(dateColumn), 'YYYY-MM')"
        case .team: "coalesce(s.team, '(no team)')"
        case .caseworker: "coalesce(s.caseworker, '(unassigned)')"
        case .adviceType: "coalesce(d.advice_type, '(none)')"
        case .provider: "coalesce(d.provider, '(not recorded)')"
        // Transfers: the transfer kind; otherwise the child's education phase on the date.
        case .phase:
            """
            CASE WHEN d.rule = 'R-PHASE-15FEB' THEN 'school transfer (15 Feb)' WHEN d.rule = 'R-PHASE-31MAR' THEN 'post-16 transfer (31 Mar)'
                 WHEN c.born_on IS NULL THEN '(unknown)'
                 WHEN age(\(dateColumn), c.born_on) < interval '5 years' THEN 'early years (under 5)'
                 WHEN age(\(dateColumn), c.born_on) < interval '11 years' THEN 'primary (5-10)'
                 WHEN age(\(dateColumn), c.born_on) < interval '16 years' THEN 'secondary (11-15)'
                 ELSE 'post-16 (16-25)' END
            """
        }
    }
}

/// Whether cases with a recorded exception stay in the figures (§3).
public enum ExceptionsPolicy: String, Sendable, CaseIterable, Codable { case excluded, included }

/// K-20W's population: DfE scope leaves out assessments with mediation or an appeal at that stage.
public enum Scope: String, Sendable, CaseIterable, Codable { case dfe, all }
