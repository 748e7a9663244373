import Foundation
import Testing

@testable import EHCPStore

@Suite("Default case reference")
struct CaseReferenceTests {
    @Test("EHC- and the first ten hex digits of the id, in capitals, whatever the id")
    func firstTenDigits() {
        #expect(CaseProjector.defaultReference(for: UUID(uuidString: "0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")!) == "EHC-0A1B2C3D4E")
        for _ in 0..<500 {
            let id = UUID()
            #expect(CaseProjector.defaultReference(for: id) == "EHC-" + id.uuidString.replacingOccurrences(of: "-", with: "").prefix(10))
        }
    }
}
