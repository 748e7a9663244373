import EHCPStore
import Foundation
import Hummingbird

/// Alerts through the API: each user's in-app feed and email choices, webhook subscriptions (admins),
/// and each channel's dead letter.
struct AlertsController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.get("alerts", use: feed)
        group.post("alerts/:alertId/read", use: markRead)
        group.get("webhooks", use: subscriptions)
        group.post("webhooks", use: subscribe)
        group.delete("webhooks/:subscriptionId", use: unsubscribe)
        group.get("webhooks/dead-letter", use: { try await deadLetters($0, $1, channel: "webhook") })
        group.post("webhooks/dead-letter/:deliveryId/redrive", use: { try await redrive($0, $1, channel: "webhook") })
        group.get("email/dead-letter", use: { try await deadLetters($0, $1, channel: "email") })
        group.post("email/dead-letter/:deliveryId/redrive", use: { try await redrive($0, $1, channel: "email") })
        group.get("me", use: me)
        group.put("me/email-choices", use: chooseEmails)
    }

    /// Who the caller is, where their alerts are emailed and what they chose, and whether the address bounced.
    @Sendable func me(_ request: Request, context: APIContext) async throws -> Response {
        guard let user = context.user else { throw Problem.unauthenticated }
        struct Me: Encodable {
            var userId: UUID
            var name: String
            var role: String
            var team: String?
            var councilId: UUID
            var email: EmailChoices
        }
        let choices = try await deps.alerts.emailChoices(of: user.name, council: user.councilId) ?? EmailChoices(address: nil)
        return JSONOutput.response(
            Me(userId: user.userId, name: user.name, role: user.role.rawValue, team: user.team, councilId: user.councilId, email: choices))
    }

    /// `{onBreach, onReminder, dailyDigest}`: the caller's own choices (the address is an administrator's to set).
    @Sendable func chooseEmails(_ request: Request, context: APIContext) async throws -> Response {
        // A choice is a write, and auditors write nothing.
        let user = try context.require(Set(UserRole.allCases).subtracting([.auditor]), to: "choose which emails you get")
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["onBreach", "onReminder", "dailyDigest"])
        var values: [Bool] = []
        for field in ["onBreach", "onReminder", "dailyDigest"] {
            guard case .bool(let value)? = body.object[field] else {
                throw Problem.invalid(field: field, value: body.object[field]?.compactDescription, "'\(field)' must be true or false")
            }
            values.append(value)
        }
        let kept = try await deps.alerts.chooseEmails(
            of: user.name, onBreach: values[0], onReminder: values[1], dailyDigest: values[2], council: user.councilId,
            once: try CaseRequests.idempotency(request, body: body.bytes, user: user)
        ) { found in
            guard found else { throw Problem.notFound("user", user.name) }
            return IdempotentWrite.reply(.noContent)
        }
        return IdempotentWrite.response(kept)
    }

    @Sendable func feed(_ request: Request, context: APIContext) async throws -> Response {
        guard let user = context.user else { throw Problem.unauthenticated }
        let unread = try QueryValue.bool(request.uri.queryParameters["unread"].map(String.init), field: "unread") ?? false
        let limit = try QueryValue.int(request.uri.queryParameters["limit"].map(String.init), field: "limit", range: 1...500) ?? 50
        let alerts = try await deps.alerts.feed(recipient: user.name, unreadOnly: unread, limit: limit, council: user.councilId)
        struct Feed: Encodable { var alerts: [AlertFeed.Alert] }
        return JSONOutput.response(Feed(alerts: alerts))
    }

    @Sendable func markRead(_ request: Request, context: APIContext) async throws -> Response {
        // Marking read is a write, and auditors write nothing.
        let user = try context.require(Roles.writeCases, to: "mark alerts read")
        let text = context.parameters.get("alertId") ?? ""
        guard let alertId = Int64(text), alertId > 0 else {
            throw Problem.invalid(field: "alertId", value: text, "'alertId' must be a whole number from 1")
        }
        let kept = try await deps.alerts.markRead(
            alertId: alertId, recipient: user.name, council: user.councilId, once: try CaseRequests.idempotency(request, user: user)
        ) { found in
            guard found else { throw Problem.notFound("alertId", text) }
            return IdempotentWrite.reply(.noContent)
        }
        return IdempotentWrite.response(kept)
    }

    @Sendable func subscriptions(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "manage webhooks")
        let list = try await deps.alerts.subscriptions(council: user.councilId)
        struct List: Encodable { var subscriptions: [OutboxQueries.Subscription] }
        return JSONOutput.response(List(subscriptions: list))
    }

    /// `{url, secret, kinds?}`: the secret (16+ characters) keys the HMAC in `X-EHCP-Signature` and is never shown again.
    @Sendable func subscribe(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "manage webhooks")
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["url", "secret", "kinds"])
        let url = try body.string("url")!
        // Alerts name children's cases: they travel over TLS, unless the receiver is on this machine.
        guard let parsed = URL(string: url), let host = parsed.host?.lowercased(), let scheme = parsed.scheme?.lowercased(),
            scheme == "https" || (scheme == "http" && ["127.0.0.1", "::1", "[::1]", "localhost"].contains(host))
        else {
            throw Problem.invalid(field: "url", value: url, "'url' must be an absolute https URL (http only to 127.0.0.1, ::1 or localhost)")
        }
        let secret = try body.string("secret")!
        guard secret.utf8.count >= 16 else { throw Problem.invalid(field: "secret", value: nil, "'secret' must be at least 16 characters") }
        var kinds: [String] = []
        switch body.object["kinds"] {
        case nil, .null?: break
        case .array(let values)?:
            for value in values {
                guard case .string(let kind) = value, ["breach", "reminder"].contains(kind) else {
                    throw Problem.invalid(field: "kinds", value: value.compactDescription, "'kinds' may contain only \"breach\" and \"reminder\"")
                }
                kinds.append(kind)
            }
        case let other?: throw Problem.invalid(field: "kinds", value: other.compactDescription, "'kinds' must be an array")
        }
        struct Created: Encodable {
            var subscriptionId: UUID
            var url: String
            var kinds: [String]
        }
        let kept = try await deps.alerts.subscribe(
            url: url, secret: secret, kinds: kinds, createdBy: user.name, council: user.councilId,
            once: try CaseRequests.idempotency(request, body: body.bytes, user: user)
        ) { [kinds] id in IdempotentWrite.json(Created(subscriptionId: id, url: url, kinds: kinds), status: .created) }
        return IdempotentWrite.response(kept)
    }

    @Sendable func unsubscribe(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "manage webhooks")
        let id = try CaseRequests.uuid(context, "subscriptionId")
        guard try await deps.alerts.unsubscribe(id, council: user.councilId) else {
            throw Problem.notFound("subscriptionId", id.lowercased)
        }
        return Response(status: .noContent)
    }

    func deadLetters(_ request: Request, _ context: APIContext, channel: String) async throws -> Response {
        let user = try context.require(Roles.administer.union([.manager, .auditor]), to: "read the dead letter")
        let limit = try QueryValue.int(request.uri.queryParameters["limit"].map(String.init), field: "limit", range: 1...500) ?? 100
        let dead = try await deps.alerts.deadLetters(channel: channel, limit: limit, council: user.councilId)
        struct List: Encodable { var deliveries: [OutboxQueries.DeadLetter] }
        return JSONOutput.response(List(deliveries: dead))
    }

    func redrive(_ request: Request, _ context: APIContext, channel: String) async throws -> Response {
        let user = try context.require(Roles.administer, to: "redrive \(channel) deliveries")
        let id = try CaseRequests.uuid(context, "deliveryId")
        let kept = try await deps.alerts.redrive(
            deliveryId: id, channel: channel, council: user.councilId, once: try CaseRequests.idempotency(request, user: user)
        ) {
            guard $0 else { throw Problem.notFound("deliveryId (in the dead letter)", id.lowercased) }
            return IdempotentWrite.reply(.accepted)
        }
        return IdempotentWrite.response(kept)
    }
}
