import EHCPDomain

/// Every distribution the demo caseload draws from, in one place (docs/demo.md explains the sources).
///
/// Modelled on England's figures in statutory-timescales.md §5: about a quarter of requests refused, a
/// few percent assessed without a plan, about half of new plans within 20 weeks with a tail past 52,
/// educational psychology advice the latest.
public struct DemoParameters: Sendable {
    /// Share of requests by source (SEN2 `rquestsource`): parents about half, schools about a third.
    public var requestSources: [(RequestSource, Double)] = [
        (.parent, 0.50), (.school, 0.33), (.earlyYears, 0.05), (.health, 0.05), (.socialCare, 0.03), (.youngPerson, 0.02), (.other, 0.02),
    ]
    /// Decisions made within 6 weeks.
    public var decisionOnTime = 0.85
    /// Requests refused (DfE: about a quarter).
    public var refused = 0.25
    /// Assessed cases where the council decides not to issue a plan.
    public var assessedNoPlan = 0.04
    /// Requests withdrawn before an outcome.
    public var withdrawn = 0.02
    /// Weeks from request to final plan, as a mixture: (share, lowest week, highest week).
    /// About 50% within 20 weeks, ~5% beyond 52 (DfE 2023: 50.3%; 2024: 46.4%).
    public var finalPlanWeeks: [(Double, Int, Int)] = [(0.50, 14, 20), (0.33, 21, 39), (0.12, 40, 52), (0.05, 53, 75)]
    /// Advice returned within 6 weeks, by type; psychology is the latest.
    public var adviceOnTime: [AdviceType: Double] = [.educational: 0.85, .psychological: 0.40, .health: 0.65, .socialCare: 0.60]
    /// Assessed cases that ask health and social care for advice (education and psychology always).
    public var healthAdvice = 0.90
    public var socialCareAdvice = 0.60
    /// Assessed cases with a recorded exception (absence or personal circumstances).
    public var exceptions = 0.04
    /// Outcomes meetings held.
    public var outcomesMeeting = 0.70
    /// Consulted settings that answer within 15 days.
    public var consultationOnTime = 0.60
    /// Annual review decisions made within the 12-month period.
    public var reviewOnTime = 0.75
    /// Review decisions within 4 weeks of the meeting.
    public var reviewDecisionOnTime = 0.80
    /// Review outcomes: maintain, amend, cease.
    public var reviewOutcomes: [(ReviewDecision, Double)] = [(.maintain, 0.63), (.amend, 0.32), (.cease, 0.05)]
    /// Plans with a phase transfer; of those, amended by the statutory date.
    public var phaseTransfer = 0.15
    public var phaseTransferOnTime = 0.70
    /// Plans ceased per year for other reasons, and the SEN2 reasons (1–9) drawn for them.
    public var ceasedPerYear = 0.03
    public var ceaseReasons: [(Int, Double)] = [(1, 0.15), (2, 0.20), (3, 0.05), (4, 0.10), (5, 0.25), (6, 0.10), (7, 0.05), (8, 0.01), (9, 0.09)]
    /// Refusals taken to mediation, and refusals appealed to the Tribunal (of which ordered to assess).
    public var refusalMediation = 0.12
    public var refusalAppeal = 0.10
    public var appealOrderedToAssess = 0.60
    /// Plans appealed on contents (the Tribunal orders an amendment).
    public var planAppeal = 0.03
    /// Plans whose caseworker changes in a given year (staff turnover).
    public var caseworkerChangePerYear = 0.35
    /// Years of history before `asOf` that requests are spread over.
    public var years = 4
    /// Teams per council and caseworkers per team.
    public var teams = ["North", "South", "East"]
    public var caseworkersPerTeam = 4

    public init() {}
}
