/// Refers to an annual review by its `reviewId`.
public struct ReviewReference: Sendable, Hashable, Codable {
    public var reviewId: String
    public init(reviewId: String) { self.reviewId = reviewId }
}

public enum ReviewDecision: String, Sendable, Hashable, Codable, CaseIterable { case maintain, amend, cease }

/// The council's decision after a review meeting (reg 20(10)); completes the review (CFA s.44).
public struct ReviewDecisionMade: Sendable, Hashable, Codable {
    public var reviewId: String
    public var decision: ReviewDecision
    public init(reviewId: String, decision: ReviewDecision) {
        self.reviewId = reviewId
        self.decision = decision
    }
}

/// An event that may name the review it follows.
public struct OptionalReviewReference: Sendable, Hashable, Codable {
    public var reviewId: String?
    public init(reviewId: String? = nil) { self.reviewId = reviewId }
}

public enum PhaseTransferKind: String, Sendable, Hashable, Codable, CaseIterable {
    /// Reg 18(1)(b): early years → school, infant → junior, primary → middle/secondary, middle → secondary.
    case school
    /// Reg 18(1)(a): secondary school → post-16 institution.
    case post16
    /// Reg 18(2): post-16 → post-16 at another time.
    case post16Other
}

/// A phase transfer the plan must be amended for (reg 18).
public struct PhaseTransferDue: Sendable, Hashable, Codable {
    public var transferYear: Int
    public var kind: PhaseTransferKind
    public var transferOn: CivilDate?
    public init(transferYear: Int, kind: PhaseTransferKind, transferOn: CivilDate? = nil) {
        self.transferYear = transferYear
        self.kind = kind
        self.transferOn = transferOn
    }
}

/// The plan stops being maintained, with its SEN2 cease reason (1–9).
public struct PlanCeased: Sendable, Hashable, Codable {
    public var reason: Int
    public init(reason: Int) { self.reason = reason }
}

/// A plan arrives from another council (reg 15).
public struct TransferredIn: Sendable, Hashable, Codable {
    public var fromAuthority: String
    public var lastReviewedOn: CivilDate?
    public var planMadeOn: CivilDate?
    public var childId: String?
    public init(fromAuthority: String, lastReviewedOn: CivilDate? = nil, planMadeOn: CivilDate? = nil, childId: String? = nil) {
        self.fromAuthority = fromAuthority
        self.lastReviewedOn = lastReviewedOn
        self.planMadeOn = planMadeOn
        self.childId = childId
    }
}

/// The council learns the family will move to another area (starts R-TRANSFER-HANDOVER-15WD, reg 15(2)).
public struct MoveNotified: Sendable, Hashable, Codable {
    public var moveOn: CivilDate
    public var toAuthority: String?
    public init(moveOn: CivilDate, toAuthority: String? = nil) {
        self.moveOn = moveOn
        self.toAuthority = toAuthority
    }
}

/// The plan is handed to the new council; closes the case here.
public struct TransferredOut: Sendable, Hashable, Codable {
    public var toAuthority: String
    public init(toAuthority: String) { self.toAuthority = toAuthority }
}
