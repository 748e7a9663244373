import Crypto
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import Postgres

/// Parsing shared by the case routes: ids, headers and event envelopes, each failure a named problem.
public enum CaseRequests {
    static func caseId(_ context: APIContext) throws -> UUID {
        try uuid(context, "caseId")
    }

    static func uuid(_ context: APIContext, _ name: String) throws -> UUID {
        let text = context.parameters.get(name) ?? ""
        guard let id = UUID(postgresText: text) else {
            throw Problem.invalid(field: name, value: text, "'\(name)' must be a UUID")
        }
        return id
    }

    /// `If-Match: "7"` (or `W/"7"`, or `7`): the case version the client last saw; `*` pins nothing.
    /// Exactly the OpenAPI pattern `^(\*|(W/)?("[0-9]{1,9}"|[0-9]{1,9}))$` is accepted.
    static func expectedVersion(_ request: Request) throws -> Int? {
        guard let header = request.headers[.ifMatch] else { return nil }
        if header == "*" { return nil }
        var text = Substring(header)
        if text.hasPrefix("W/") { text = text.dropFirst(2) }
        if text.count >= 2, text.first == "\"", text.last == "\"" { text = text.dropFirst().dropLast() }
        guard (1...9).contains(text.utf8.count), text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
            let version = Int(text)
        else {
            throw Problem.invalid(field: "If-Match", value: header, "If-Match must be the case's ETag, e.g. \"7\"")
        }
        return version
    }

    /// The `Idempotency-Key` header and a fingerprint of the request it guards (user, method, path and
    /// body); no fingerprint without a key. Another user's identical request with the same key is not a
    /// replay: it would otherwise be answered with the first user's response.
    static func idempotency(_ request: Request, body: [UInt8] = [], user: AuthenticatedUser) throws -> Idempotency? {
        guard let key = request.headers[.init("Idempotency-Key")!] else { return nil }
        if key.isEmpty || key.utf8.count > 200 {
            throw Problem.invalid(field: "Idempotency-Key", value: String(key.prefix(40)), "Idempotency-Key must be 1 to 200 characters")
        }
        var hasher = SHA256()
        hasher.update(data: Array("\(user.userId.lowercased) \(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        return Idempotency(key: key, requestHash: hasher.finalize().hex)
    }

    /// An event envelope `{type, occurredOn, data}`, decoded strictly (unknown fields are refused).
    static func event(_ body: RequestBody) throws -> (CaseEvent, CivilDate) {
        do {
            let envelope = try EventEnvelope.decode(body.object, path: body.path)
            return (envelope.event, envelope.occurredOn)
        } catch {
            switch error {
            case .unknownField(let field):
                throw Problem(
                    .unprocessableContent, title: "Unknown field", detail: "'\(field)' is not a field of this request", code: "unknownField",
                    field: field)
            case .missing(let field): throw Problem.invalid(field: field, value: nil, "'\(field)' is required")
            case .notAString(let field, let value): throw Problem.invalid(field: field, value: value, "'\(field)' must be a string")
            case .malformedDate(let field, let value): throw Problem.malformedDate(field: field, value: value)
            case .invalidEvent(let error): throw Problem.from(error)
            }
        }
    }

    /// Events only some roles may log, and events nobody logs by hand (`CaseEvent.requiredAuthority`),
    /// refused before the case is read; the decider checks a correction's target the same way.
    public static func authorise(_ event: CaseEvent, user: AuthenticatedUser) throws {
        guard let authority = Roles.authority(user.role), event.mayBeLogged(with: authority) else {
            switch event.requiredAuthority {
            case .scheduler:
                throw Problem(
                    .forbidden, title: "Recorded by the scheduler", detail: "\(event.typeName) is recorded only by the deadline scheduler",
                    code: "forbidden", field: "type", value: event.typeName)
            case .assignCases: throw Problem.forbidden(user, to: "assign cases", roles: Roles.assign)
            case .logEvents: throw Problem.forbidden(user, to: "log case events", roles: Roles.writeCases)
            }
        }
    }

    static func etag(_ version: Int) -> String { "\"\(version)\"" }
}

/// What recording events returns: enough to follow up, and the same bytes when an idempotent request is replayed.
struct RecordedResponse: Encodable, JSONValueRepresentable {
    var caseId: UUID
    var reference: String?
    var firstVersion: Int
    var version: Int
    var links: [String: String]

    /// The answer to every logged event, so built without an encoder (the same value: a test compares them).
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "caseId": .string(caseId.lowercased), "firstVersion": .number(Double(firstVersion)), "version": .number(Double(version)),
            "links": .object(links.mapValues(JSONValue.string)),
        ]
        if let reference { object["reference"] = .string(reference) }
        return .object(object)
    }
}

/// The list's page cursor: the last reference of the previous page, base64url without padding (RFC 4648
/// §5). Every string of the documented pattern, `^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?$` of at
/// most 600 characters, is accepted (it names a position in reference order), so the OpenAPI document
/// and the server agree exactly.
enum PageCursor {
    static let maxLength = 600
    private static let alphabet = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    static func cursor(after reference: String) -> String {
        Data(reference.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// The reference a cursor names, or nil when it is not of the pattern.
    static func reference(_ cursor: String) -> String? {
        let bytes = Array(cursor.utf8)
        guard bytes.count <= maxLength, bytes.count % 4 != 1, bytes.allSatisfy(alphabet.contains) else { return nil }
        var standard = String(
            decoding: bytes.map { $0 == UInt8(ascii: "-") ? UInt8(ascii: "+") : $0 == UInt8(ascii: "_") ? UInt8(ascii: "/") : $0 }, as: UTF8.self)
        standard += String(repeating: "=", count: (4 - bytes.count % 4) % 4)
        // Foundation ignores the unused low bits of the last group, so every cursor of the pattern decodes.
        guard let data = Data(base64Encoded: standard) else { return nil }
        return String(decoding: data, as: UTF8.self).replacingOccurrences(of: "\u{0}", with: "")
    }
}
