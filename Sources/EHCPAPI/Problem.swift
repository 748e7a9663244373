import EHCPDomain
import EHCPStore
import Foundation
import HTTPTypes
import Hummingbird
import Postgres

/// An RFC 9457 problem: every refusal the API gives, as `application/problem+json`, naming the rule,
/// the field and the value wherever they are known. All error mapping happens here, in one place.
public struct Problem: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    /// A stable machine-readable code (`CaseError.Code` names, or `forbidden`, `bodyTooLarge` …).
    public var code: String
    public var rule: String?
    public var field: String?
    public var value: String?
    public var extra: [String: JSONValue] = [:]
    public var headers: HTTPFields = [:]
    /// For the server's log only (never sent): what went wrong underneath an internal error.
    var cause: String?

    public init(
        _ status: HTTPResponse.Status, title: String, detail: String, code: String, rule: String? = nil, field: String? = nil,
        value: String? = nil
    ) {
        self.status = status
        self.title = title
        self.detail = detail
        self.code = code
        self.rule = rule
        self.field = field
        self.value = value
    }

    static let unauthenticated: Problem = {
        var problem = Problem(
            .unauthorized, title: "Authentication required",
            detail: "send 'Authorization: Bearer <token>' with a live token (make one with 'ehcp tokens create')",
            code: "unauthenticated")
        problem.headers[.wwwAuthenticate] = #"Bearer realm="ehcp""#
        return problem
    }()

    /// 429 for a client address that presented too many refused tokens (`FailedSignIns`).
    static func tooManyFailedSignIns(retryAfter wait: Duration) -> Problem {
        var problem = Problem(
            .tooManyRequests, title: "Too many failed sign-ins",
            detail: "this address presented \(FailedSignIns.limit) tokens that were refused within a minute; try again after the time in Retry-After",
            code: "tooManyFailedSignIns")
        problem.headers[.retryAfter] = String(max(1, Int(wait.components.seconds) + 1))
        return problem
    }

    public static func notFound(_ what: String, _ id: String) -> Problem {
        Problem(.notFound, title: "Not found", detail: "no \(what) '\(id)' in your council", code: "notFound", field: what, value: id)
    }

    public static func invalid(field: String, value: String?, _ detail: String, code: String = "invalidField") -> Problem {
        Problem(.badRequest, title: "Invalid request", detail: detail, code: code, field: field, value: value)
    }

    /// The caller's role does not allow `action`.
    static func forbidden(_ user: AuthenticatedUser, to action: String, roles: Set<UserRole>) -> Problem {
        Problem(
            .forbidden, title: "Not allowed for your role",
            detail:
                "\(user.role == .admin || user.role == .auditor ? "an" : "a") \(user.role.rawValue) may not \(action); this needs one of: \(roles.map(\.rawValue).sorted().joined(separator: ", "))",
            code: "forbidden")
    }

    /// A date that is not `YYYY-MM-DD`, not a real day, or outside the years the service accepts.
    static func malformedDate(field: String, value: String) -> Problem {
        invalid(
            field: field, value: value,
            "'\(field)' must be a real date written YYYY-MM-DD, in the years \(CivilDate.acceptedYears.lowerBound) to \(CivilDate.acceptedYears.upperBound)",
            code: "malformedDate")
    }

    var json: JSONValue {
        var object: [String: JSONValue] = [
            "type": .string("https://ehcp.example/problems/\(code)"), "title": .string(title), "status": .number(Double(status.code)),
            "detail": .string(detail), "code": .string(code),
        ]
        if let rule { object["rule"] = .string(rule) }
        if let field { object["field"] = .string(field) }
        if let value { object["value"] = .string(value) }
        object.merge(extra) { a, _ in a }
        return .object(object)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = headers
        headers[.contentType] = "application/problem+json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: JSONOutput.bytes(json))))
    }
}

extension Problem {
    /// Maps every error the lower layers throw. Anything unexpected is a 500 whose detail names no internals.
    public static func from(_ error: any Error) -> Problem {
        switch error {
        case let problem as Problem: return problem
        case let error as CaseError: return from(error)
        case let error as CaseCommandError:
            switch error {
            case .rejected(let error): return from(error)
            case .versionMismatch(let expected, let actual):
                var problem = Problem(
                    .preconditionFailed, title: "The case has changed",
                    detail: "If-Match names version \(expected) but the case is at version \(actual); reload it and try again",
                    code: "versionMismatch", field: "If-Match", value: String(expected))
                problem.extra["currentVersion"] = .number(Double(actual))
                return problem
            case .caseNotFound(let id): return .notFound("caseId", id.uuidString.lowercased())
            }
        case let error as StoreError:
            switch error {
            case .idempotencyKeyReused(let key):
                return Problem(
                    .unprocessableContent, title: "Idempotency key reused",
                    detail: "this Idempotency-Key was already used with a different request; use a new key for a new request",
                    code: "idempotencyKeyReused", field: "Idempotency-Key", value: key)
            case .concurrencyConflict(_, let expected, let actual):
                return Problem(
                    .conflict, title: "Concurrent update",
                    detail: "another change landed first (expected version \(expected), found \(actual.map(String.init) ?? "none")); retry",
                    code: "concurrencyConflict")
            case .database(let error): return from(error)
            }
        case let error as PostgresError:
            if error.kind == .poolTimeout || error.kind == .poolClosed { return .unavailable }
            if error.kind == .connection { return .connectionLost }
            if error.sqlState == "23505", error.constraint == "case_summary_council_id_reference_key" {
                return Problem(
                    .conflict, title: "Reference in use", detail: "another case in your council already has this reference",
                    code: "duplicate", field: "reference")
            }
            return .internal(error)
        case let error as HTTPError where error.status.code < 500:
            // Raised by Hummingbird itself (a body it could not read, say): keep its status.
            return Problem(
                error.status, title: error.status.reasonPhrase, detail: error.body ?? error.status.reasonPhrase, code: "http\(error.status.code)")
        default:
            return .internal(error)
        }
    }

    /// A 500 that tells the client nothing internal and keeps the cause for the log.
    static func `internal`(_ error: any Error) -> Problem {
        var problem = Problem.internalError
        problem.cause = String(reflecting: error)
        return problem
    }

    static let internalError = Problem(
        .internalServerError, title: "Internal error", detail: "the request failed unexpectedly; it has been logged with its request id",
        code: "internal")

    static let unavailable = Problem(
        .serviceUnavailable, title: "Database unavailable", detail: "the database could not be reached; nothing was written, retry shortly",
        code: "unavailable")

    /// The connection broke during the request: if that was during a commit, the change may have been
    /// recorded without its answer reaching here, so only a retry with the same key is safe.
    static let connectionLost = Problem(
        .serviceUnavailable, title: "Database unavailable",
        detail:
            "the connection to the database was lost; a change cut off while committing may have been recorded: retry with the same Idempotency-Key to record it exactly once",
        code: "unavailable")

    static func from(_ error: CaseError) -> Problem {
        let status: HTTPResponse.Status =
            switch error.code {
            case .caseNotOpen: .notFound
            case .caseAlreadyOpen, .duplicate: .conflict
            case .forbidden: .forbidden
            default: .unprocessableContent
            }
        return Problem(
            status, title: "Refused: \(error.code.rawValue)", detail: error.description, code: error.code.rawValue,
            rule: error.rule?.rawValue, field: error.field, value: error.value)
    }
}
