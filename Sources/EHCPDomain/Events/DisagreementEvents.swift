public enum AppealType: String, Sendable, Hashable, Codable, CaseIterable {
    case refusalToAssess, refusalToIssue, planContents, placement, cease
}

/// An appeal or a conceded appeal of a given type.
public struct AppealReference: Sendable, Hashable, Codable {
    public var appealType: AppealType
    public init(appealType: AppealType) { self.appealType = appealType }
}

/// The decisions a family can appeal to the First-tier Tribunal (CFA 2014 s.51), each of which the
/// council must notify to them with their right of appeal (regs 5(3), 10(2), 14, 22, 25, 32).
public enum AppealableDecision: String, Sendable, Hashable, Codable, CaseIterable {
    case notToAssess, notToIssuePlan, finalPlan, amendedPlan, cease, notToReassess

    /// In plain English, as a notice names it.
    public var title: String {
        switch self {
        case .notToAssess: "decision not to assess"
        case .notToIssuePlan: "decision not to issue a plan"
        case .finalPlan: "final plan"
        case .amendedPlan: "amended plan"
        case .cease: "decision to cease the plan"
        case .notToReassess: "decision not to reassess"
        }
    }

    /// The family's appeal window this decision opens (R-APPEAL-WINDOW's key).
    public var appealWindowKey: String {
        switch self {
        case .notToAssess: "refusalToAssess"
        case .notToIssuePlan: "refusalToIssue"
        case .finalPlan, .amendedPlan: "planContents"
        case .cease: "cease"
        case .notToReassess: "refusalToReassess"
        }
    }
}

extension CaseEvent {
    /// The appealable decision this event records, if it is one (CFA 2014 s.51).
    public var appealableDecision: AppealableDecision? {
        switch self {
        case .decidedNotToAssess: .notToAssess
        case .decidedNotToIssuePlan: .notToIssuePlan
        case .finalPlanIssued: .finalPlan
        case .amendedPlanIssued: .amendedPlan
        case .decidedNotToReassess: .notToReassess
        case .reviewDecisionMade(let made) where made.decision == .cease: .cease
        default: nil
        }
    }
}

/// The notice of an appealable decision, with the family's right of appeal, was sent to them: the family's
/// two months to appeal run from this day (HESC r.20(1)(c)).
public struct DecisionNoticeSent: Sendable, Hashable, Codable {
    public var decision: AppealableDecision
    public init(decision: AppealableDecision) { self.decision = decision }
}

public enum TribunalOrder: String, Sendable, Hashable, Codable, CaseIterable {
    case assess, makePlan, amendNeedsProvision, amendPlacement, cease, dismissed
}

/// The First-tier Tribunal's order (reg 44).
public struct TribunalOrderMade: Sendable, Hashable, Codable {
    public var order: TribunalOrder
    public init(order: TribunalOrder) { self.order = order }
}
