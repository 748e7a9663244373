public enum AppealType: String, Sendable, Hashable, Codable, CaseIterable {
    case refusalToAssess, refusalToIssue, planContents, placement, cease
}

/// An appeal or a conceded appeal of a given type.
public struct AppealReference: Sendable, Hashable, Codable {
    public var appealType: AppealType
    public init(appealType: AppealType) { self.appealType = appealType }
}

public enum TribunalOrder: String, Sendable, Hashable, Codable, CaseIterable {
    case assess, makePlan, amendNeedsProvision, amendPlacement, cease, dismissed
}

/// The First-tier Tribunal's order (reg 44).
public struct TribunalOrderMade: Sendable, Hashable, Codable {
    public var order: TribunalOrder
    public init(order: TribunalOrder) { self.order = order }
}
