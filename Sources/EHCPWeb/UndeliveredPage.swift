import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// "Alerts not delivered": emails and webhook deliveries that failed every attempt or were refused for
/// good (a bounced address), newest first, for managers, administrators and auditors. An administrator
/// sends one again with fresh attempts, as `POST /v1/{email,webhooks}/dead-letter/{id}/redrive` does.
struct UndeliveredPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Row {
        var id: String
        var channel: String
        var when: String
        var to: String
        var what: String
        var attempts: Int
        var reason: String
    }
    struct Section {
        var title: String
        var rows: [Row]
        var isEmpty: Bool
    }
    struct View {
        var layout: Layout
        var sections: [Section]
        var canRedrive: Bool
        var redriven: Bool
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer.union([.manager, .auditor]), to: "read the alerts that were not delivered")
        var sections: [Section] = []
        for (channel, title) in [("email", "Emails"), ("webhook", "Webhook deliveries")] {
            let rows = try await deps.alerts.deadLetters(channel: channel, limit: 100, council: user.councilId).map { dead in
                Row(
                    id: dead.deliveryId.uuidString.lowercased(), channel: channel, when: London.date(of: dead.deadAt).long,
                    to: dead.recipient ?? "Subscription \(dead.subscriptionId.map { String($0.uuidString.lowercased().prefix(8)) } ?? "")",
                    what: Self.what(dead.payload), attempts: dead.attempts, reason: dead.lastError ?? "not recorded")
            }
            sections.append(Section(title: title, rows: rows, isEmpty: rows.isEmpty))
        }
        let view = View(
            layout: Layout(title: "Alerts not delivered", session: context.sessions.session, current: "/alerts", backLink: "/alerts"),
            sections: sections, canRedrive: user.role == .admin, redriven: request.uri.queryParameters["redriven"] != nil)
        return pages.render("undelivered", view)
    }

    @Sendable func redrive(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "send alerts again")
        _ = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        let channel = context.parameters.get("channel") ?? ""
        guard ["email", "webhook"].contains(channel) else { throw Problem.notFound("channel", channel) }
        guard let id = UUID(uuidString: context.parameters.get("deliveryId") ?? "") else {
            throw Problem.notFound("deliveryId", context.parameters.get("deliveryId") ?? "")
        }
        _ = try await deps.alerts.redrive(deliveryId: id, channel: channel, council: user.councilId, once: nil) { found in
            guard found else { throw Problem.notFound("deliveryId (in the dead letter)", id.uuidString.lowercased()) }
            return KeptResponse(status: 202)
        }
        return Pages.redirect("/alerts/undelivered?redriven=1")
    }

    /// An email's subject, or a webhook's kind and case reference: what the delivery was about.
    static func what(_ payload: String) -> String {
        guard let object = (try? JSONValue.parse(Array(payload.utf8)))?.objectValue else { return "" }
        if case .string(let subject)? = object["subject"] { return subject }
        if case .string(let kind)? = object["kind"], case .string(let reference)? = object["reference"] {
            return "\(kind == "breach" ? "Deadline passed" : "Reminder"): \(reference)"
        }
        return ""
    }
}
