import Testing

@testable import EHCPDomain

@Suite("Rule ordinals")
struct RuleOrdinalTests {
    @Test("each rule's ordinal is its position in allCases, so per-rule tables index correctly")
    func ordinals() {
        #expect(MemoryLayout<RuleID>.size == 1)
        #expect(RuleID.allCases.map(\.ordinal) == Array(RuleID.allCases.indices))
    }
}
