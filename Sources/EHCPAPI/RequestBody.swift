import EHCPDomain
import Foundation
import Hummingbird

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

/// A request's JSON object, read under `RequestLimits`, with field accessors whose errors name the field.
struct RequestBody: Sendable {
    let bytes: [UInt8]
    let object: [String: JSONValue]

    /// Reads and parses the body. Requires `Content-Type: application/json` when a body is present.
    static func read(_ request: Request, context: APIContext) async throws -> RequestBody {
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: RequestLimits.bodyBytes)
        } catch {
            throw Problem(
                .contentTooLarge, title: "Body too large", detail: "the body is over the limit of \(RequestLimits.bodyBytes) bytes",
                code: "bodyTooLarge", field: "body")
        }
        let bytes = Array(buffer.readableBytesView)
        if let type = request.headers[.contentType], !type.lowercased().hasPrefix("application/json") {
            throw Problem(
                .unsupportedMediaType, title: "Unsupported media type", detail: "send the body as application/json", code: "unsupportedMediaType",
                field: "Content-Type", value: type)
        }
        try JSONLimitScanner.check(bytes)
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw Problem.invalid(field: "body", value: nil, "the body is not valid JSON", code: "malformedJSON")
        }
        guard let object = value.objectValue else {
            throw Problem.invalid(field: "body", value: nil, "the body must be a JSON object", code: "malformedJSON")
        }
        return RequestBody(bytes: bytes, object: object)
    }

    /// Refuses fields this endpoint does not define (the API's unknown-field policy: reject, docs/api.md).
    func allowOnly(_ fields: Set<String>, in path: String = "") throws {
        for key in object.keys.sorted() where !fields.contains(key) {
            throw Problem(
                .unprocessableContent, title: "Unknown field", detail: "'\(path + key)' is not a field of this request",
                code: "unknownField", field: path + key)
        }
    }

    func string(_ field: String, required: Bool = true) throws -> String? {
        switch object[field] {
        case .string(let value)?: return value
        case nil, .null?:
            if required { throw Problem.invalid(field: field, value: nil, "'\(field)' is required") }
            return nil
        case let other?: throw Problem.invalid(field: field, value: other.compactDescription, "'\(field)' must be a string")
        }
    }

    func date(_ field: String, required: Bool = true) throws -> CivilDate? {
        guard let text = try string(field, required: required) else { return nil }
        guard let date = CivilDate(iso: text) else {
            throw Problem.invalid(field: field, value: text, "'\(field)' must be a real date written YYYY-MM-DD", code: "malformedDate")
        }
        return date
    }

    func nested(_ field: String) throws -> RequestBody? {
        switch object[field] {
        case .object(let inner)?: return RequestBody(bytes: [], object: inner)
        case nil, .null?: return nil
        case let other?: throw Problem.invalid(field: field, value: other.compactDescription, "'\(field)' must be an object")
        }
    }
}

extension JSONValue {
    /// A short rendering for error messages.
    var compactDescription: String {
        switch self {
        case .null: "null"
        case .bool(let value): String(value)
        case .number(let value): value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
        case .string(let value): value
        case .array: "[…]"
        case .object: "{…}"
        }
    }
}

/// Checks nesting depth, string length and member counts in one pass over the raw bytes, before any
/// parser allocates for them.
enum JSONLimitScanner {
    static func check(_ bytes: [UInt8]) throws {
        // PostgreSQL text and jsonb cannot hold NUL: refuse it here rather than fail in the database.
        if let index = bytes.firstIndex(of: 0) ?? Self.escapedNUL(in: bytes) {
            throw Problem.invalid(
                field: "body", value: nil, "the body contains a NUL character (at byte \(index)), which cannot be stored", code: "malformedJSON")
        }
        try checkShape(bytes)
    }

    /// Where `\u0000` (an escaped NUL) starts, by a plain scan (the generic `firstRange(of:)` is slow).
    static func escapedNUL(in bytes: [UInt8]) -> Int? {
        let pattern = Array("\\u0000".utf8)
        guard bytes.count >= pattern.count else { return nil }
        for start in 0...(bytes.count - pattern.count) where bytes[start] == pattern[0] {
            if bytes[start + 1] == pattern[1] && bytes[start + 2...start + 5].elementsEqual(pattern[2...5]) { return start }
        }
        return nil
    }

    private static func checkShape(_ bytes: [UInt8]) throws {
        var depth = 0
        var members: [Int] = []
        var inString = false
        var escaped = false
        var stringLength = 0
        for byte in bytes {
            if inString {
                stringLength += 1
                if stringLength > RequestLimits.stringBytes {
                    throw Problem.invalid(
                        field: "body", value: nil, "a string in the body is longer than \(RequestLimits.stringBytes) bytes", code: "jsonTooLong")
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
                    throw Problem.invalid(field: "body", value: nil, "the body nests deeper than \(RequestLimits.depth) levels", code: "jsonTooDeep")
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                depth -= 1
                _ = members.popLast()
            case UInt8(ascii: ","):
                if let last = members.indices.last {
                    members[last] += 1
                    if members[last] >= RequestLimits.members {
                        throw Problem.invalid(
                            field: "body", value: nil, "an object or array in the body has more than \(RequestLimits.members) members",
                            code: "jsonTooLong")
                    }
                }
            default: break
            }
        }
    }
}

/// Query-string values, parsed with errors that name the parameter.
enum QueryValue {
    static func int(_ text: String?, field: String, range: ClosedRange<Int>) throws -> Int? {
        guard let text else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw Problem.invalid(field: field, value: text, "'\(field)' must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A value from a closed list (an OpenAPI `enum`): anything else is refused, naming the choices.
    static func oneOf(_ text: String?, field: String, allowed: [String]) throws -> String? {
        guard let text else { return nil }
        guard allowed.contains(text) else {
            throw Problem.invalid(field: field, value: text, "'\(field)' must be one of: \(allowed.joined(separator: ", "))")
        }
        return text
    }

    static func bool(_ text: String?, field: String) throws -> Bool? {
        switch text {
        case nil: return nil
        case "true"?: return true
        case "false"?: return false
        case let other?: throw Problem.invalid(field: field, value: other, "'\(field)' must be true or false")
        }
    }
}

/// JSON output (`JSONWriter`): sorted keys, UUIDs in lower case, dates as `YYYY-MM-DD`, timestamps in ISO 8601.
/// A response that builds its JSON value directly, skipping the encoder (for the busiest responses).
protocol JSONValueRepresentable {
    var jsonValue: JSONValue { get }
}

enum JSONOutput {
    static func bytes(_ value: some Encodable) -> [UInt8] {
        if let direct = value as? any JSONValueRepresentable { return JSONWriter.bytes(direct.jsonValue) }
        // Our response types hold no value JSON cannot carry, so encoding cannot fail.
        return (try? JSONWriter.value(value)).map(JSONWriter.bytes) ?? Array(#"{"error":"encoding failed"}"#.utf8)
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: bytes(value))))
    }
}
