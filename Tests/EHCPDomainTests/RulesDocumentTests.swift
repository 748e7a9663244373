import EHCPDomain
import Foundation
import Testing

@Suite("docs/rules.md and the code")
struct RulesDocumentTests {
    @Test("every rule ID in the code has a section in docs/rules.md, and every section names a rule in the code")
    func lockstep() throws {
        let text = try String(contentsOf: Fixture.root.appendingPathComponent("docs/rules.md"), encoding: .utf8)
        let documented = Set(
            text.split(separator: "\n").compactMap { line -> String? in
                line.hasPrefix("#### R-") ? String(line.dropFirst(5)).trimmingCharacters(in: .whitespaces) : nil
            })
        let coded = Set(RuleID.allCases.map(\.rawValue))
        #expect(documented.subtracting(coded).sorted() == [], "documented but not in the code")
        #expect(coded.subtracting(documented).sorted() == [], "in the code but not documented")
    }
}
