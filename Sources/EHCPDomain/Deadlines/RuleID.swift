/// Every statutory, guidance and local rule the deadline engine tracks (statutory-timescales.md §2).
///
/// Each rule is defined here once; the raw value is the ID used in API output, tests and docs/rules.md.
public enum RuleID: String, Sendable, Hashable, Codable, CaseIterable, Comparable {
    // Initial assessment
    /// Regs 4(1), 5(1): decision whether to assess within 6 weeks of the request.
    case decide6W = "R-DECIDE-6W"
    /// Reg 8(1): each advice giver responds within 6 weeks of receiving the request for advice.
    case advice6W = "R-ADVICE-6W"
    /// Local target: the 'writing the outcomes' meeting, N weeks after the decision to assess.
    case outcomesLocal = "R-OUTCOMES-LOCAL"
    /// Reg 10(1): notice that no plan will be issued, within 16 weeks of the request.
    case noPlan16W = "R-NOPLAN-16W"
    /// Local target: draft plan issued N weeks after the request (no statutory deadline).
    case draftLocal = "R-DRAFT-LOCAL"
    /// Reg 13(1): the family has at least 15 days from service of the draft (a window, not a duty).
    case draft15D = "R-DRAFT-15D"
    /// CoP 9.83 (guidance): a consulted school or college responds within 15 days.
    case consult15D = "R-CONSULT-15D"
    /// Reg 13(2): final EHC plan within 20 weeks of the request.
    case final20W = "R-FINAL-20W"
    // Re-assessment
    /// Regs 24/25 (believed): decide whether to re-assess within 15 days of the request.
    case reassessDecide15D = "R-REASSESS-DECIDE-15D"
    /// Reg 27(2): final amended or replacement plan within 14 weeks of the re-assessment notice.
    case reassessFinal14W = "R-REASSESS-FINAL-14W"
    // Annual review and amendment
    /// CFA s.44(1): review within the period of 12 months starting with the plan or last review date.
    case review12M = "R-REVIEW-12M"
    /// Regs 20(3)–(4), 21(3)–(4): invitations and advice at least 2 weeks before the meeting (a window).
    case reviewNotice2W = "R-REVIEW-NOTICE-2W"
    /// Regs 20(7), 21(7): review report within 2 weeks of the meeting.
    case reviewReport2W = "R-REVIEW-REPORT-2W"
    /// Reg 20(10) (believed); R (L, M & P) v Devon CC [2022] EWHC 493 (Admin): decision within 4 weeks.
    case reviewDecide4W = "R-REVIEW-DECIDE-4W"
    /// Reg 22(2): at least 15 days to comment on proposed amendments (a window).
    case amend15D = "R-AMEND-15D"
    /// Reg 22(3)–(4): final amended plan within 8 weeks of the notice, never later than meeting + 12 weeks.
    case amendFinal8W = "R-AMEND-FINAL-8W"
    /// Reg 18(1)(b): phase transfer reviewed and amended before 15 February of the transfer year.
    case phase15Feb = "R-PHASE-15FEB"
    /// Reg 18(1)(a): secondary to post-16 transfer amended before 31 March of the transfer year.
    case phase31Mar = "R-PHASE-31MAR"
    /// Reg 18(2): post-16 to post-16 transfer at another time, at least 5 months before it.
    case phasePost16FiveMonths = "R-PHASE-POST16-5M"
    // Moving between councils
    /// Reg 15(2): the old authority transfers the plan on the day of the move, or within 15 working days.
    case transferHandover15WD = "R-TRANSFER-HANDOVER-15WD"
    /// Reg 15(4): the new authority tells the family within 6 weeks of the transfer.
    case transferNotice6W = "R-TRANSFER-NOTICE-6W"
    /// Reg 15(5): the new authority's first review, before the later of two periods.
    case transferReview = "R-TRANSFER-REVIEW"
    // Disagreements
    /// HESC Rules r.20(1)(c), r.12(3): the family's appeal deadline (informational, not the LA's duty).
    case appealWindow = "R-APPEAL-WINDOW"
    /// CFA 2014 s.51 and the notices of regs 5(3), 10(2), 14, 22, 25 and 32: the family is sent notice of an
    /// appealable decision, with their right of appeal. The 5 working days are the service's check (local):
    /// the family's two months to appeal run from the notice (HESC r.20(1)(c)).
    case decisionNotice5WD = "R-DECISION-NOTICE-5WD"
    /// Regs 35–37 (believed): mediation arranged within 30 days.
    case mediationArrange30D = "R-MEDIATION-ARRANGE-30D"
    /// Regs 34, 39 (believed): mediation certificate within 3 working days.
    case mediationCert3WD = "R-MEDIATION-CERT-3WD"
    /// Reg 44(2)(b): after an order to assess, tell the family within 2 weeks.
    case orderAssessNotify2W = "R-ORDER-ASSESS-NOTIFY-2W"
    /// Reg 44(2)(b): after an order to assess, a decision not to issue within 10 weeks.
    case orderAssessNoPlan10W = "R-ORDER-ASSESS-NOPLAN-10W"
    /// Reg 44(2)(b): after an order to assess, the final plan within 14 weeks.
    case orderAssessFinal14W = "R-ORDER-ASSESS-FINAL-14W"
    /// Reg 44(2)(c): after an order to make a plan, the draft within 5 weeks.
    case orderPlanDraft5W = "R-ORDER-PLAN-DRAFT-5W"
    /// Reg 44(2)(c): after an order to make a plan, the final plan within 11 weeks.
    case orderPlanFinal11W = "R-ORDER-PLAN-FINAL-11W"
    /// Reg 44(2)(e): after an order to amend needs or provision, the amended plan within 5 weeks.
    case orderAmend5W = "R-ORDER-AMEND-5W"
    /// Reg 44(2)(f): after an order to change the named school, the amended plan within 2 weeks.
    case orderPlacement2W = "R-ORDER-PLACEMENT-2W"
    /// Reg 44(2)(a): an appeal against cessation dismissed: cease on the order date.
    case orderCease = "R-ORDER-CEASE"
    /// Reg 45: an unopposed (conceded) appeal against a refusal to assess: same periods as reg 44(2)(b).
    case unopposedAssessNotify2W = "R-UNOPPOSED-ASSESS-NOTIFY-2W"
    /// Reg 45, as reg 44(2)(b).
    case unopposedAssessNoPlan10W = "R-UNOPPOSED-ASSESS-NOPLAN-10W"
    /// Reg 45, as reg 44(2)(b).
    case unopposedAssessFinal14W = "R-UNOPPOSED-ASSESS-FINAL-14W"
    /// Reg 45, as reg 44(2)(c).
    case unopposedPlanDraft5W = "R-UNOPPOSED-PLAN-DRAFT-5W"
    /// Reg 45, as reg 44(2)(c).
    case unopposedPlanFinal11W = "R-UNOPPOSED-PLAN-FINAL-11W"
    /// Reg 45, as reg 44(2)(e).
    case unopposedAmend5W = "R-UNOPPOSED-AMEND-5W"
    /// Reg 45, as reg 44(2)(f).
    case unopposedPlacement2W = "R-UNOPPOSED-PLACEMENT-2W"

    public static func < (lhs: RuleID, rhs: RuleID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// 0 … allCases.count − 1, in declaration order: an array index for per-rule tables.
    ///
    /// A payload-free enum is stored as its one-byte case tag, in declaration order; reading the tag
    /// avoids hashing the raw string (which is what `Hashable` does for a String-backed enum).
    var ordinal: Int { Int(unsafeBitCast(self, to: UInt8.self)) }

    /// How a rule's clock behaves once its date passes.
    public enum Kind: String, Sendable {
        /// A duty on the council: breached when it passes unmet.
        case duty
        /// A minimum period the family is given (a window): never breached; acting inside it is flagged.
        case window
        /// Someone else's deadline, shown for information (the family's appeal deadline).
        case informational
    }

    public var kind: Kind {
        switch self {
        case .draft15D, .reviewNotice2W, .amend15D: .window
        case .appealWindow: .informational
        default: .duty
        }
    }

    /// The grounds on which the regulations excuse missing this rule's time limit (§3); empty when none.
    ///
    /// Reg 10(4)(a)–(d) is reused by regs 5(4), 13(3) and 27(3); reg 8(2) covers advice givers and has no
    /// closure ground but adds a missed appointment.
    public var exceptionGrounds: Set<ExceptionGround> {
        switch self {
        case .decide6W, .noPlan16W, .final20W, .reassessFinal14W:
            [.closure, .personalCircumstances, .absence]
        case .advice6W:
            [.personalCircumstances, .absence, .missedAppointment]
        default:
            []
        }
    }
}
