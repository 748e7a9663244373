/// The limits every request body must respect; each breach is a 4xx naming the limit, never a 500.
public enum RequestLimits {
    /// Largest body accepted (413 above it). An event is a few hundred bytes; a case opening under 2 KiB.
    public static let bodyBytes = 64 * 1024
    /// Deepest nesting of arrays and objects.
    public static let depth = 8
    /// Longest string (in bytes, after escapes are counted as written).
    public static let stringBytes = 4_096
    /// Most members in one object or array.
    public static let members = 256
}

/// A body over one of `RequestLimits`: `code` is the API's stable problem code.
public struct JSONLimitError: Error, Sendable, Hashable {
    public var message: String
    public var code: String
    init(_ message: String, code: String) {
        self.message = message
        self.code = code
    }
}

/// Checks nesting depth, string length and member counts in one pass over the raw bytes, before any
/// parser allocates for them.
public enum JSONLimitScanner {
    public static func check(_ bytes: [UInt8]) throws(JSONLimitError) {
        // PostgreSQL text and jsonb cannot hold NUL: refuse it here rather than fail in the database.
        if let index = bytes.firstIndex(of: 0) ?? Self.escapedNUL(in: bytes) {
            throw JSONLimitError("the body contains a NUL character (at byte \(index)), which cannot be stored", code: "malformedJSON")
        }
        try checkShape(bytes)
    }

    /// Where `\u0000` (an escaped NUL) starts, by a plain scan (the generic `firstRange(of:)` is slow).
    public static func escapedNUL(in bytes: [UInt8]) -> Int? {
        let pattern = Array("\\u0000".utf8)
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start + 1] == pattern[1] && bytes[start + 2...start + 5].elementsEqual(pattern[2...5]) { return start }
        }
        return nil
    }

    private static func checkShape(_ bytes: [UInt8]) throws(JSONLimitError) {
        var depth = 0
        var members: [Int] = []
        var inString = false
        var escaped = false
        var stringLength = 0
        for byte in bytes {
            if inString {
                stringLength += 1
                if stringLength > RequestLimits.stringBytes {
                    throw JSONLimitError("a string in the body is longer than \(RequestLimits.stringBytes) bytes", code: "jsonTooLong")
                }
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                stringLength = 0
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                members.append(0)
                if depth > RequestLimits.depth {
                    throw JSONLimitError("the body nests deeper than \(RequestLimits.depth) levels", code: "jsonTooDeep")
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                _ = members.popLast()
            case UInt8(ascii: ","):
                if let last = members.indices.last {
                    members[last] += 1
                    if members[last] >= RequestLimits.members {
                        throw JSONLimitError(
                            "an object or array in the body has more than \(RequestLimits.members) members",
                            code: "jsonTooLong")
                    }
                }
            default: break
            }
        }
    }
}
