import EHCPDomain
import Foundation

/// A caseworker and their team.
public struct DemoCaseworker: Sendable, Hashable {
    public var name: String
    public var team: String
}

enum DemoNames {
    static let forenames = [
        "Ada", "Blue", "Cosmo", "Dot", "Echo", "Fable", "Gizmo", "Hoot", "Indigo", "Jinx", "Kite", "Lumen",
        "Mango", "Nimbus", "Orbit", "Pixel", "Quill", "Rune", "Sprout", "Tinsel", "Umber", "Velvet", "Wren", "Zephyr",
    ]
    static let surnames = [
        "Testington", "Sampleworth", "Placeholder", "Mockley", "Fictionshire", "Demoford", "Examplethorpe",
        "Pretendby", "Makebelieve", "Dummington", "Invented", "Notrealton",
    ]
    static let caseworkers = ["Alex", "Bea", "Cal", "Dee", "Eli", "Fay", "Gus", "Hal", "Ivy", "Jo", "Kit", "Lou", "Max", "Ned", "Oli"]

    /// A child whose every detail is obviously fictional: invented surnames, the ZZ99 pseudo-postcode
    /// area, pupil numbers starting 'DEMO'.
    static func child(_ random: inout DemoRandom, requestOn: CivilDate, serial: Int) -> ChildRecord {
        let age = random.int(2...17)
        let born = requestOn.adding(days: -(age * 365 + random.int(0...364)))
        return ChildRecord(
            id: random.uuid(),
            forename: forenames[random.int(0...forenames.count - 1)],
            surname: surnames[random.int(0...surnames.count - 1)],
            bornOn: born, sex: random.chance(0.72) ? "M" : "F",  // about 7 in 10 EHC plans are for boys
            postcode: "ZZ99 \(random.int(1...9))\(["AA", "BB", "DE", "MO"][random.int(0...3)])",
            upn: "DEMO" + String(format: "%09d", serial))
    }

    static func caseworkers(_ parameters: DemoParameters, council: Int) -> [DemoCaseworker] {
        parameters.teams.enumerated().flatMap { teamIndex, team in
            (0..<parameters.caseworkersPerTeam).map { n in
                let name = caseworkers[(teamIndex * parameters.caseworkersPerTeam + n) % caseworkers.count]
                return DemoCaseworker(name: "\(name) Demo-\(council + 1)\(team.prefix(1))\(n + 1)", team: team)
            }
        }
    }
}
