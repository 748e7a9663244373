import EHCPDomain
import Foundation
import Hummingbird

/// A request's JSON object, read under `RequestLimits`, with field accessors whose errors name the field.
struct RequestBody: Sendable {
    let bytes: [UInt8]
    let object: [String: JSONValue]
    /// Where this object sits in the body (`child.` for the child of a case opening): errors name `path + field`.
    var path = ""

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
        do { try JSONLimitScanner.check(bytes) } catch {
            throw Problem.invalid(field: "body", value: nil, error.message, code: error.code)
        }
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
    func allowOnly(_ fields: Set<String>) throws {
        for key in object.keys.sorted() where !fields.contains(key) {
            throw Problem(
                .unprocessableContent, title: "Unknown field", detail: "'\(path + key)' is not a field of this request",
                code: "unknownField", field: path + key)
        }
    }

    func string(_ field: String, required: Bool = true) throws -> String? {
        let named = path + field
        switch object[field] {
        case .string(let value)?: return value
        case nil, .null?:
            if required { throw Problem.invalid(field: named, value: nil, "'\(named)' is required") }
            return nil
        case let other?: throw Problem.invalid(field: named, value: other.compactDescription, "'\(named)' must be a string")
        }
    }

    func date(_ field: String, required: Bool = true) throws -> CivilDate? {
        guard let text = try string(field, required: required) else { return nil }
        guard let date = CivilDate(iso: text), CivilDate.acceptedYears.contains(date.year) else {
            throw Problem.malformedDate(field: path + field, value: text)
        }
        return date
    }

    func nested(_ field: String) throws -> RequestBody? {
        let named = path + field
        switch object[field] {
        case .object(let inner)?: return RequestBody(bytes: [], object: inner, path: named + ".")
        case nil, .null?: return nil
        case let other?: throw Problem.invalid(field: named, value: other.compactDescription, "'\(named)' must be an object")
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
