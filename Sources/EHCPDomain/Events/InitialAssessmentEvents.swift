/// Who asked for the EHC needs assessment (SEN2 `rquestsource`).
public enum RequestSource: String, Sendable, Hashable, Codable, CaseIterable {
    case parent, youngPerson, school, earlyYears, health, socialCare, other
}

/// Opens a case: day 0 of the 6, 16 and 20-week clocks (CFA s.36(1)).
public struct RequestReceived: Sendable, Hashable, Codable {
    public var requestSource: RequestSource
    public var childId: String?
    public init(requestSource: RequestSource, childId: String? = nil) {
        self.requestSource = requestSource
        self.childId = childId
    }
}

/// Opens a case on the day the council became responsible for the child (CFA s.24); same clocks.
public struct BecameResponsible: Sendable, Hashable, Codable {
    public var reason: String
    public var childId: String?
    public init(reason: String, childId: String? = nil) {
        self.reason = reason
        self.childId = childId
    }
}

public enum AdviceType: String, Sendable, Hashable, Codable, CaseIterable {
    case educational, psychological, health, socialCare, earlyYears, other

    /// Whether this advice is requested from a school, college or early-years provider: the only advice
    /// a setting's closure can delay (reg 10(4)(a)/(b)). Health and social-care advice have no closure
    /// ground, nor does the educational psychologist's.
    public var comesFromASetting: Bool { self == .educational || self == .earlyYears }

    /// In plain English, as people read it.
    public var title: String {
        switch self {
        case .educational: "educational"
        case .psychological: "educational psychology"
        case .health: "health"
        case .socialCare: "social care"
        case .earlyYears: "early years"
        case .other: "other"
        }
    }
}

/// A request for advice (reg 6); starts an R-ADVICE-6W clock from the day the body received it.
public struct AdviceRequested: Sendable, Hashable, Codable {
    public var adviceId: String
    public var adviceType: AdviceType
    public var provider: String?
    public var receivedByProviderOn: CivilDate?
    public init(adviceId: String, adviceType: AdviceType, provider: String? = nil, receivedByProviderOn: CivilDate? = nil) {
        self.adviceId = adviceId
        self.adviceType = adviceType
        self.provider = provider
        self.receivedByProviderOn = receivedByProviderOn
    }
}

/// Refers to an earlier advice request by its `adviceId`.
public struct AdviceReference: Sendable, Hashable, Codable {
    public var adviceId: String
    public init(adviceId: String) { self.adviceId = adviceId }
}

/// A school or college consulted about being named in the plan (CoP 9.83).
public struct SettingConsulted: Sendable, Hashable, Codable {
    public var consultationId: String
    public var setting: String
    public init(consultationId: String, setting: String) {
        self.consultationId = consultationId
        self.setting = setting
    }
}

public enum ConsultationResponse: String, Sendable, Hashable, Codable, CaseIterable { case agreed, declined }

public struct ConsultationResponseReceived: Sendable, Hashable, Codable {
    public var consultationId: String
    public var response: ConsultationResponse
    public init(consultationId: String, response: ConsultationResponse) {
        self.consultationId = consultationId
        self.response = response
    }
}

/// A final or amended plan, optionally naming the setting (section I).
public struct PlanIssued: Sendable, Hashable, Codable {
    public var namedSetting: String?
    public init(namedSetting: String? = nil) { self.namedSetting = namedSetting }
}

/// A free-text reason (withdrawal, correction).
public struct Reason: Sendable, Hashable, Codable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
