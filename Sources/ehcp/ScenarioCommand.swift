import ArgumentParser
import EHCPDomain
import Foundation

/// `ehcp scenario FILE…`: folds scenario files through `decide` and prints their deadlines (events.md).
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Fold scenario files and print their deadlines as JSON; exit 1 if any expectation fails.")

    @Argument(help: "Scenario JSON files.")
    var files: [String]

    func run() throws {
        let runner = ScenarioRunner(decider: CaseDecider(engine: DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var failed = 0
        for file in files {
            let scenario: Scenario
            do {
                scenario = try JSONDecoder().decode(Scenario.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
            } catch {
                FileHandle.standardError.write(Data("\(file): cannot read scenario: \(error)\n".utf8))
                failed += 1
                continue
            }
            let outcome = runner.run(scenario)
            print(String(decoding: try encoder.encode(outcome), as: UTF8.self))
            let problems = ScenarioRunner.mismatches(outcome, against: scenario.expect)
            for problem in problems { FileHandle.standardError.write(Data("\(file): \(problem)\n".utf8)) }
            if !problems.isEmpty { failed += 1 }
        }
        if files.count > 1 || failed > 0 {
            FileHandle.standardError.write(Data("\(files.count - failed) passed, \(failed) failed\n".utf8))
        }
        if failed > 0 { throw ExitCode(1) }
    }
}
