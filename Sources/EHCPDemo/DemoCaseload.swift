import EHCPDomain
import Foundation

/// One generated case: its council, caseworker, child and recorded history.
public struct DemoCase: Sendable {
    public var caseId: UUID
    public var council: Int
    public var reference: String
    public var child: ChildRecord
    public var caseworker: DemoCaseworker
    public var history: [RecordedEvent]
    /// Planned events `decide` refused (a generator bug when not empty; the tests require none).
    public var refused: [String]
}

/// Generates a realistic synthetic caseload, deterministically for a seed.
public struct DemoCaseload: Sendable {
    public var parameters: DemoParameters
    public var seed: UInt64
    public var asOf: CivilDate
    public var councils: Int
    public let decider: CaseDecider

    public init(parameters: DemoParameters = DemoParameters(), seed: UInt64, asOf: CivilDate, councils: Int = 1, decider: CaseDecider) {
        self.parameters = parameters
        self.seed = seed
        self.asOf = asOf
        self.councils = max(1, councils)
        self.decider = decider
    }

    /// The caseworkers of council `index` (0-based).
    public func caseworkers(council index: Int) -> [DemoCaseworker] { DemoNames.caseworkers(parameters, council: index) }

    /// Case number `index`: the same index and seed always give the same case.
    public func generate(_ index: Int) -> DemoCase {
        var random = DemoRandom(seed: seed, stream: index)
        let council = index % councils
        let workers = caseworkers(council: council)
        let caseworker = workers[random.int(0...workers.count - 1)]
        let caseId = random.uuid()
        let requestOn = asOf.adding(days: -random.int(1...(365 * parameters.years)))
        let child = DemoNames.child(&random, requestOn: requestOn, serial: index + 1)
        var planner = CasePlanner(parameters: parameters, caseworker: caseworker, colleagues: workers, random: random)
        planner.planCase(requestOn: requestOn, childId: child.id.uuidString.lowercased(), asOf: asOf)
        var simulator = CaseSimulator(decider: decider, asOf: asOf)
        simulator.run(planner.plan)
        return DemoCase(
            caseId: caseId, council: council,
            reference: "EHC-\(requestOn.year)-" + caseId.uuidString.replacingOccurrences(of: "-", with: "").prefix(10), child: child,
            caseworker: caseworker, history: simulator.state.history, refused: simulator.refused)
    }
}
