import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// GOV.UK Notify's REST API, as its documentation publishes it: an email is a template and its
/// personalisation (`POST /v2/notifications/email`), each request carries a JSON Web Token signed with
/// HS256 by the API key's secret (`iss` the service id, `iat` now, within 30 seconds of Notify's clock),
/// and the delivery status is read back with `GET /v2/notifications/{id}`.
public struct NotifyClient: Sendable {
    /// An API key, `{key name}-{service id}-{secret key}`: the service id and the secret are the two UUIDs at its end.
    public struct APIKey: Sendable {
        public var serviceId: String
        public var secret: String

        /// - Returns: nil when the text does not end in two UUIDs.
        public init?(_ text: String) {
            let key = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard key.utf8.count >= 74 else { return nil }
            let secret = String(key.suffix(36))
            let service = String(key.dropLast(37).suffix(36))
            guard UUID(uuidString: secret) != nil, UUID(uuidString: service) != nil, key.dropLast(36).hasSuffix("-") else { return nil }
            (serviceId, self.secret) = (service, secret)
        }
    }

    public var baseURL: String
    public var key: APIKey
    let http: HTTPClient
    var timeout: Duration = .seconds(10)

    public init(baseURL: String = "https://api.notifications.service.gov.uk", key: APIKey, http: HTTPClient) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.key = key
        self.http = http
    }

    /// The bearer token for one request.
    public func token(at time: Date = Date()) -> String {
        func base64URL(_ bytes: some Sequence<UInt8>) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let header = base64URL(Array(#"{"typ":"JWT","alg":"HS256"}"#.utf8))
        let claims = base64URL(Array(#"{"iss":"\#(key.serviceId)","iat":\#(Int(time.timeIntervalSince1970))}"#.utf8))
        let signature = HMAC<SHA256>.authenticationCode(for: Array("\(header).\(claims)".utf8), using: SymmetricKey(data: Array(key.secret.utf8)))
        return "\(header).\(claims).\(base64URL(signature))"
    }

    /// What Notify answered a send with.
    public enum Outcome: Sendable, Equatable {
        /// Accepted (201): Notify's id for the notification.
        case accepted(id: String)
        /// Refused for good (400: the address or the template is wrong): `addressRefused` when the
        /// address was the reason.
        case refused(reason: String, addressRefused: Bool)
        /// Worth trying again later: 403 (a key or clock to fix), 429, 5xx, no answer.
        case failed(reason: String)
    }

    public func sendEmail(to address: String, template: String, personalisation: [String: String], reference: String, replyTo: String?) async
        -> Outcome
    {
        struct Body: Encodable {
            var emailAddress: String
            var templateId: String
            var personalisation: [String: String]
            var reference: String
            var emailReplyToId: String?
            enum CodingKeys: String, CodingKey {
                case emailAddress = "email_address"
                case templateId = "template_id"
                case personalisation, reference
                case emailReplyToId = "email_reply_to_id"
            }
        }
        let body = Body(
            emailAddress: address, templateId: template, personalisation: personalisation, reference: reference, emailReplyToId: replyTo)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let json = try? encoder.encode(body) else { return .failed(reason: "failed: the request could not be written") }
        let (status, answer): (UInt, [UInt8])
        do { (status, answer) = try await call(.POST, "/v2/notifications/email", body: Array(json)) } catch {
            return .failed(reason: "failed: could not reach GOV.UK Notify or it did not answer in time")
        }
        switch status {
        case 201:
            struct Created: Decodable { var id: String }
            guard let created = try? JSONDecoder().decode(Created.self, from: Data(answer)) else {
                return .failed(reason: "failed: GOV.UK Notify's answer had no notification id")
            }
            return .accepted(id: created.id)
        case 400:
            let message = Self.message(answer)
            return .refused(reason: "refused by GOV.UK Notify (400): \(message)", addressRefused: message.lowercased().contains("email_address"))
        default:
            return .failed(reason: "failed: GOV.UK Notify answered \(status): \(Self.message(answer))")
        }
    }

    /// A notification's status as Notify reports it (`created`, `sending`, `delivered`,
    /// `permanent-failure`, `temporary-failure`, `technical-failure`), or nil when it could not be read.
    public func status(of id: String) async -> String? {
        guard UUID(uuidString: id) != nil, let (status, answer) = try? await call(.GET, "/v2/notifications/\(id.lowercased())", body: nil),
            status == 200
        else { return nil }
        struct Notification: Decodable { var status: String }
        return (try? JSONDecoder().decode(Notification.self, from: Data(answer)))?.status
    }

    /// The first error's message from Notify's `{"status_code": …, "errors": [{"error": …, "message": …}]}`.
    static func message(_ body: [UInt8]) -> String {
        struct Errors: Decodable {
            struct Item: Decodable {
                var error: String
                var message: String
            }
            var errors: [Item]
        }
        guard let first = (try? JSONDecoder().decode(Errors.self, from: Data(body)))?.errors.first else { return "no error message" }
        return String("\(first.error): \(first.message)".prefix(300))
    }

    private func call(_ method: HTTPMethod, _ path: String, body: [UInt8]?) async throws -> (UInt, [UInt8]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(token())")
        request.headers.add(name: "User-Agent", value: "ehcp-alerts/1")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await http.execute(request, timeout: .seconds(Int64(timeout.components.seconds)))
        let answer = try await response.body.collect(upTo: 256 * 1024)
        return (response.status.code, Array(buffer: answer))
    }
}
