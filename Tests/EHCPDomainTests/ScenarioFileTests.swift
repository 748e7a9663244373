import EHCPDomain
import Foundation
import Testing

/// Every scenario file in scenarios/ (the shared set and one or more per rule) passes.
@Suite("Scenario files")
struct ScenarioFileTests {
    static let files: [URL] = {
        let folders = ["scenarios/shared", "scenarios/rules"].map { Fixture.root.appendingPathComponent($0) }
        return folders.flatMap { folder in
            ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? [])
                .filter { $0.pathExtension == "json" }
        }.sorted { $0.lastPathComponent < $1.lastPathComponent }
    }()

    @Test("there are scenarios for every rule ID")
    func everyRuleHasAScenario() throws {
        #expect(Self.files.count >= 90)
        let text = try Self.files.map { try String(contentsOf: $0, encoding: .utf8) }.joined()
        for rule in RuleID.allCases {
            #expect(text.contains("\"\(rule.rawValue)\""), "no scenario mentions \(rule.rawValue)")
        }
    }

    @Test("scenario passes", arguments: files)
    func scenarioPasses(_ file: URL) throws {
        let scenario = try JSONDecoder().decode(Scenario.self, from: Data(contentsOf: file))
        let outcome = ScenarioRunner(decider: Fixture.decider).run(scenario)
        let problems = ScenarioRunner.mismatches(outcome, against: scenario.expect)
        #expect(problems.isEmpty, "\(file.lastPathComponent): \(problems.joined(separator: "; "))")
    }
}
