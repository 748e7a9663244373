import EHCPDomain
import Foundation
import Testing

@testable import EHCPAPI

@Suite("Response JSON")
struct JSONWriterTests {
    struct Sample: Encodable {
        struct Row: Encodable {
            var day: CivilDate
            var count: Int
            var share: Double?
        }
        var caseId: UUID
        var ids: [UUID]
        var reference: String
        var missing: String?
        var at: Date
        var rows: [Row]
        var byTeam: [String: Int]
        var flag: Bool
        var data: JSONValue
    }

    static let sample = Sample(
        caseId: UUID(uuidString: "D39F542A-05B7-412A-9698-3CAE08D7A70F")!, ids: [UUID(uuidString: "AA17BC2F-28E6-42F9-828A-D8C974F52BE5")!],
        reference: "EHC \"12\" \\ α/β\n\u{1}", missing: nil, at: Date(timeIntervalSince1970: 1_795_000_000),
        rows: [.init(day: CivilDate(iso: "2026-02-28")!, count: 3, share: 0.125), .init(day: CivilDate(iso: "2024-02-29")!, count: -1, share: nil)],
        byTeam: ["North": 2, "East": 1], flag: true, data: .object(["b": .array([.null, .number(1.5)]), "a": .string("x")]))

    @Test("is Foundation's JSON with sorted keys and ISO 8601 instants, except that UUIDs are lower case")
    func matchesFoundation() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        let foundation = String(decoding: try encoder.encode(Self.sample), as: UTF8.self)
        let ours = String(decoding: JSONOutput.bytes(Self.sample), as: UTF8.self)
        #expect(
            ours
                == foundation.replacingOccurrences(of: "D39F542A-05B7-412A-9698-3CAE08D7A70F", with: "d39f542a-05b7-412a-9698-3cae08d7a70f")
                .replacingOccurrences(of: "AA17BC2F-28E6-42F9-828A-D8C974F52BE5", with: "aa17bc2f-28e6-42f9-828a-d8c974f52be5")
                .replacingOccurrences(of: "\\u0001", with: "\\u0001"))
        #expect(ours.contains(#""reference":"EHC \"12\" \\ α/β\n\u0001""#))
        #expect(!ours.contains("missing"))
        // What we write, our strict parser reads back.
        #expect(try JSONValue.parse(JSONOutput.bytes(Self.sample)) == (try JSONWriter.value(Self.sample)))
    }
}

extension JSONWriterTests {
    @Test("a logged event's answer, built directly, is the value the encoder gives, with and without a reference")
    func recordedResponse() throws {
        for reference in ["EHC-2025-0042", nil] {
            let recorded = RecordedResponse(
                caseId: UUID(), reference: reference, firstVersion: 3, version: 4, links: ["case": "/v1/cases/x", "timeline": "/v1/cases/x/timeline"])
            #expect(recorded.jsonValue == (try JSONWriter.value(recorded)))
        }
    }
}

@Suite("NUL scans of request bytes")
struct NULScanTests {
    @Test("a percent-encoded NUL is found wherever it starts, and only a whole one")
    func percentEncoded() {
        for text in ["%00", "/v1/cases?q=a%00b", "%0%00", "%%00", "x%000"] { #expect(text.utf8.containsNUL, "\(text)") }
        for text in ["", "%0", "%0a0", "%200", "/v1/cases?q=100%25", "0%0"] { #expect(!text.utf8.containsNUL, "\(text)") }
    }

    @Test("an escaped NUL in a JSON body is found at its offset")
    func escaped() {
        #expect(JSONLimitScanner.escapedNUL(in: Array(#"{"a":"x\u0000"}"#.utf8)) == 7)
        #expect(JSONLimitScanner.escapedNUL(in: Array(#"\u0000"#.utf8)) == 0)
        #expect(JSONLimitScanner.escapedNUL(in: Array(#"{"a":"\u00001"}"#.utf8)) == 6)
        #expect(JSONLimitScanner.escapedNUL(in: Array(#"{"a":"\u0001"}"#.utf8)) == nil)
        #expect(JSONLimitScanner.escapedNUL(in: Array(#"\u000"#.utf8)) == nil)
    }
}

@Suite("Request ids")
struct RequestIDTests {
    @Test("random version 4 UUIDs: the version and variant bits set, and no two alike")
    func versionFour() {
        let ids = (0..<2_000).map { _ in UUID.randomVersion4() }
        #expect(Set(ids).count == ids.count)
        for id in ids {
            let text = id.uuidString
            #expect(text[text.index(text.startIndex, offsetBy: 14)] == "4")
            #expect("89AB".contains(text[text.index(text.startIndex, offsetBy: 19)]))
        }
    }
}
