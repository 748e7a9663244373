import Foundation
import Postgres
import Testing

@Suite("UUID text form")
struct UUIDTextTests {
    @Test("the hand-written text form equals Foundation's, both ways, in either case")
    func matchesFoundation() {
        for _ in 0..<2_000 {
            let id = UUID()
            #expect(id.postgresText == id.uuidString.lowercased())
            #expect(UUID(postgresText: id.uuidString) == id)
            #expect(UUID(postgresText: id.uuidString.lowercased()) == id)
        }
        let edge = UUID(uuid: (0, 0x0f, 0xf0, 0xff, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa, 0xb, 0xc))
        #expect(edge.postgresText == "000ff0ff-0102-0304-0506-0708090a0b0c")
    }

    @Test(
        "malformed text is refused",
        arguments: [
            "", "0", "000ff0ff01020304050607080 90a0b0c", "000ff0ff-0102-0304-0506-0708090a0b0", "000ff0ff-0102-0304-0506-0708090a0b0c0",
            "000ff0ff-0102-0304-0506_0708090a0b0c", "000ff0fg-0102-0304-0506-0708090a0b0c", "{000ff0ff-0102-0304-0506-0708090a0b0c}",
            "000ff0ff-0102-0304-0506-0708090a0b0é",
        ])
    func refusesMalformed(text: String) {
        #expect(UUID(postgresText: text) == nil)
    }
}
