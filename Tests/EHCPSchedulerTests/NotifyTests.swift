import AsyncHTTPClient
import Crypto
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Synchronization
import Testing

@testable import EHCPScheduler

/// GOV.UK Notify, played by a small HTTP server that checks each request as Notify's published API does
/// (docs.notifications.service.gov.uk, "REST API"): a JWT in `Authorization: Bearer`, HS256 over the
/// API key's secret, `iss` the service id and `iat` within 30 seconds; `POST /v2/notifications/email`
/// with `email_address`, `template_id`, `personalisation` and `reference`; `GET /v2/notifications/{id}`.
/// It answers as Notify does, its errors included: 400, 403, 429 and 500 with `status_code` and `errors`.
final class NotifyStub: Sendable {
    static let serviceId = "26785a09-ab16-4eb0-8407-a37497a57506"
    static let secret = "3d844edf-8d35-48ac-975b-e847b4f122b0"
    static let apiKey = "ehcp_alerts_live-\(serviceId)-\(secret)"

    struct Sent: Sendable {
        var id: String
        var body: [String: JSONValue]
    }
    /// What the next sends are answered with: 201, or one of Notify's errors.
    let answer = Mutex<Int>(201)
    /// A notification's status as `GET` reports it.
    let statuses = Mutex<[String: String]>([:])
    let sent = Mutex<[Sent]>([])
    let refusedTokens = Mutex<Int>(0)

    static func error(_ status: Int, _ error: String, _ message: String) -> Response {
        let body = #"{"status_code": \#(status), "errors": [{"error": "\#(error)", "message": "\#(message)"}]}"#
        return Response(status: .init(code: status), headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// Notify's own check of the bearer token; nil when it is good.
    static func refusal(_ authorization: String?) -> Response? {
        guard let authorization, authorization.hasPrefix("Bearer ") else {
            return error(401, "AuthError", "Unauthorized: authentication token must be provided")
        }
        let parts = authorization.dropFirst(7).split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        func decode(_ part: String) -> Data? {
            var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while text.count % 4 != 0 { text += "=" }
            return Data(base64Encoded: text)
        }
        guard parts.count == 3, let header = decode(parts[0]), let claims = decode(parts[1]), let signature = decode(parts[2]),
            let headerObject = (try? JSONValue.parse(Array(header)))?.objectValue,
            let claimsObject = (try? JSONValue.parse(Array(claims)))?.objectValue
        else { return error(403, "AuthError", "Invalid token: signature, api token is not valid") }
        guard headerObject["alg"] == .string("HS256"), headerObject["typ"] == .string("JWT") else {
            return error(403, "AuthError", "Invalid token: algorithm used is not HS256")
        }
        let expected = HMAC<SHA256>.authenticationCode(for: Array("\(parts[0]).\(parts[1])".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        guard Data(expected) == signature else { return error(403, "AuthError", "Invalid token: signature, api token not found") }
        guard claimsObject["iss"] == .string(serviceId) else { return error(403, "AuthError", "Invalid token: service not found") }
        guard case .number(let issued)? = claimsObject["iat"], abs(issued - Date().timeIntervalSince1970) <= 30 else {
            return error(403, "AuthError", "Error: Your system clock must be accurate to within 30 seconds")
        }
        return nil
    }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("v2/notifications/email") { request, context -> Response in
            var request = request
            if let refusal = Self.refusal(request.headers[.authorization]) {
                self.refusedTokens.withLock { $0 += 1 }
                return refusal
            }
            let bytes = Array(buffer: try await request.collectBody(upTo: 1 << 20))
            guard let body = (try? JSONValue.parse(bytes))?.objectValue else {
                return Self.error(400, "BadRequestError", "Invalid JSON supplied in POST data")
            }
            let allowed: Set = ["email_address", "template_id", "personalisation", "reference", "email_reply_to_id", "one_click_unsubscribe_url"]
            if let unknown = body.keys.first(where: { !allowed.contains($0) }) {
                return Self.error(400, "ValidationError", "Additional properties are not allowed (\(unknown) was unexpected)")
            }
            guard case .string(let address)? = body["email_address"] else {
                return Self.error(400, "ValidationError", "email_address is a required property")
            }
            guard case .string(let template)? = body["template_id"], UUID(uuidString: template) != nil else {
                return Self.error(400, "ValidationError", "template_id is not a valid UUID")
            }
            if let personalisation = body["personalisation"], personalisation.objectValue == nil {
                return Self.error(400, "ValidationError", "personalisation is not of type object")
            }
            if let reference = body["reference"], case .string = reference {
            } else if body["reference"] != nil {
                return Self.error(400, "ValidationError", "reference is not of type string")
            }
            switch self.answer.withLock({ $0 }) {
            case 400: return Self.error(400, "ValidationError", "email_address Not a valid email address")
            case 403: return Self.error(403, "AuthError", "Invalid token: API key revoked")
            case 429: return Self.error(429, "RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds")
            case 500: return Self.error(500, "Exception", "Internal server error")
            default: break
            }
            guard address.contains("@") else { return Self.error(400, "ValidationError", "email_address Not a valid email address") }
            let id = UUID().uuidString.lowercased()
            self.sent.withLock { $0.append(Sent(id: id, body: body)) }
            self.statuses.withLock { $0[id] = "sending" }
            let reference = body["reference"].flatMap { if case .string(let text) = $0 { text } else { nil } } ?? ""
            let created = #"""
                {"id": "\#(id)", "reference": "\#(reference)", "content": {"subject": "s", "body": "b", "from_email": "ehcp@notifications.service.gov.uk"},
                 "uri": "https://api.notifications.service.gov.uk/v2/notifications/\#(id)",
                 "template": {"id": "\#(template)", "version": 1, "uri": "https://api.notifications.service.gov.uk/v2/template/\#(template)"}}
                """#
            return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: created)))
        }
        router.get("v2/notifications/:id") { request, context -> Response in
            if let refusal = Self.refusal(request.headers[.authorization]) { return refusal }
            let id = context.parameters.get("id") ?? ""
            guard let status = self.statuses.withLock({ $0[id] }) else {
                return Self.error(404, "NoResultFound", "No result found")
            }
            let body = #"{"id": "\#(id)", "type": "email", "status": "\#(status)", "email_address": "x@council.example"}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

@Suite("Email by GOV.UK Notify: its API's contract, its errors, and delivery receipts")
struct NotifyTests {
    static let templates = [
        "breach": "f33517ff-2a88-4f6e-b855-c550268ce08a", "reminder": "b6b3e2a8-9e3e-4b8a-8b8b-6f0f5c1e2d3a",
        "digest": "0c4a5a49-1b62-4c4e-9f0d-3e1a2b3c4d5e",
    ]

    func dispatcher(_ harness: SchedulerHarness, port: Int, key: String = NotifyStub.apiKey) throws -> EmailDispatcher {
        var settings = EmailSettings(
            transport: .notify(baseURL: "http://127.0.0.1:\(port)", key: NotifyClient.APIKey(key)!, templates: Self.templates, replyTo: nil), from: ""
        )
        settings.retry.baseDelay = .zero
        settings.retry.maxAttempts = 5
        return try EmailDispatcher(pool: harness.pool, settings: settings)
    }

    @Test("the API key splits into its service id and secret; a key that does not end in two UUIDs is refused")
    func apiKey() {
        let key = NotifyClient.APIKey(NotifyStub.apiKey)
        #expect(key?.serviceId == NotifyStub.serviceId && key?.secret == NotifyStub.secret)
        #expect(NotifyClient.APIKey("my-key-\(NotifyStub.serviceId)") == nil)
        #expect(NotifyClient.APIKey("not a key") == nil)
    }

    @Test("an accepted email stores Notify's id; its delivery status is read back until final, and a permanent failure marks the address")
    func acceptedAndReadBack() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        try harness.setEmail("Meg", "meg@council.example")
        let stub = NotifyStub()
        try await stub.application.test(.live) { client in
            let caseId = try await harness.openCase()
            _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
            let dispatcher = try dispatcher(harness, port: client.port!)
            #expect(try await dispatcher.dispatchOnce().delivered == 2)
            let sent = stub.sent.withLock { $0 }
            #expect(sent.count == 2)
            for request in sent {
                #expect(request.body["template_id"] == .string(Self.templates["breach"]!))
                let personalisation = try #require(request.body["personalisation"]?.objectValue)
                #expect(personalisation["case_link"] == .string("https://ehcp.council.example/cases/\(caseId.uuidString.lowercased())"))
                #expect(personalisation["due_date"] == .string("Monday 14 April 2025"))
                #expect(personalisation["subject"].map { "\($0)" }?.contains("Deadline passed") == true)
            }
            let stored = try await harness.pool.transaction(council: harness.council) { connection in
                try connection.query("SELECT provider_id, transport, delivery_id::text FROM outbox WHERE channel = 'email' ORDER BY provider_id").rows
                    .map {
                        (try $0.decode(String.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(String.self, at: 2))
                    }
            }
            #expect(Set(stored.map(\.0)) == Set(sent.map(\.id)))
            #expect(stored.allSatisfy { $0.1 == "notify" })
            // Notify's reference is the delivery id, so a repeat is recognisable there too.
            #expect(Set(sent.compactMap { if case .string(let r)? = $0.body["reference"] { r } else { nil } }) == Set(stored.map(\.2)))

            #expect(try await dispatcher.readStatuses() == 0)  // still "sending"
            let ann = try await harness.pool.transaction(council: harness.council) {
                try $0.query("SELECT provider_id FROM outbox WHERE recipient = 'Ann'").first!.decode(String.self, at: 0)
            }
            stub.statuses.withLock { statuses in
                for id in statuses.keys { statuses[id] = id == ann ? "permanent-failure" : "delivered" }
            }
            try harness.asOwner("UPDATE outbox SET available_at = now() WHERE channel = 'email'")  // a minute on
            #expect(try await dispatcher.readStatuses() == 2)
            #expect(try await harness.count("SELECT count(*) FROM outbox WHERE delivery_status = 'delivered' AND status_checked_at IS NOT NULL") == 1)
            let failures = try await AlertWork(pool: harness.pool).emailFailures(team: "North", council: harness.council)
            #expect(failures.map(\.name) == ["Ann"])
            // Not left as sent: Ann's is in the dead letter, to be sent again once her address is right.
            let dead = try await AlertWork(pool: harness.pool).deadLetters(channel: "email", limit: 10, council: harness.council)
            #expect(dead.map(\.recipient) == ["Ann"] && (dead.first?.lastError ?? "").contains("permanent-failure"))
            try harness.setEmail("Ann", "ann.new@council.example")
            _ = try await AlertWork(pool: harness.pool).redrive(deliveryId: dead[0].deliveryId, channel: "email", council: harness.council, once: nil)
            {
                #expect($0)
                return KeptResponse(status: 202)
            }
            #expect(try await dispatcher.dispatchOnce().delivered == 1)
            #expect(stub.sent.withLock { $0.last?.body["email_address"] } == .string("ann.new@council.example"))
            // A technical failure at Notify puts the email back in the queue.
            let again = stub.sent.withLock { $0.last!.id }
            stub.statuses.withLock { $0[again] = "technical-failure" }
            try harness.asOwner("UPDATE outbox SET available_at = now() WHERE channel = 'email'")
            #expect(try await dispatcher.readStatuses() == 1)
            #expect(try await dispatcher.dispatchOnce().delivered == 1)
            #expect(stub.sent.withLock { $0.count } == 4)
        }
    }

    @Test("Notify's 403, 429 and 500 are retried; its 400 for the address is dead at once and marks the address; a wrongly signed token is refused")
    func errors() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        let stub = NotifyStub()
        try await stub.application.test(.live) { client in
            try await harness.openCase()
            _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
            let dispatcher = try dispatcher(harness, port: client.port!)
            var reasons: [String] = []
            for status in [403, 429, 500] {
                stub.answer.withLock { $0 = status }
                let report = try await dispatcher.dispatchOnce()
                #expect(report.failed == 1 && report.dead == 0)
                reasons.append(
                    try await harness.pool.transaction(council: harness.council) {
                        try $0.query("SELECT last_error FROM outbox WHERE channel = 'email'").first!.decode(String.self, at: 0)
                    })
            }
            #expect(reasons[0].contains("403") && reasons[0].contains("AuthError"))
            #expect(reasons[1].contains("429") && reasons[1].contains("RateLimitError"))
            #expect(reasons[2].contains("500"))
            // A key whose secret is wrong: the stub checks the signature as Notify does.
            let forged = "ehcp_alerts_live-\(NotifyStub.serviceId)-\(UUID().uuidString.lowercased())"
            #expect(try await self.dispatcher(harness, port: client.port!, key: forged).dispatchOnce().failed == 1)
            #expect(stub.refusedTokens.withLock { $0 } == 1)
            stub.answer.withLock { $0 = 400 }
            let refused = try await dispatcher.dispatchOnce()
            #expect(refused.dead == 1)
            let ann = try await AlertWork(pool: harness.pool).emailChoices(of: "Ann", council: harness.council)
            #expect(ann?.failure?.contains("email_address") == true)
            #expect(stub.sent.withLock { $0.isEmpty })
        }
    }
}
