import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Alerts: my feed of reminders and breaches, unread first, each marked read with a button.
struct AlertsPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Item {
        var id: String
        var caseHref: String
        var reference: String
        var title: String
        var dueOn: String
        var kind: String
        var read: Bool
        var tag: Tag
    }
    struct View {
        var layout: Layout
        var items: [Item]
        var isEmpty: Bool
        var canSeeUndelivered: Bool
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read alerts")
        let alerts = try await deps.alerts.feed(recipient: user.name, unreadOnly: false, limit: 100, council: user.councilId)
        let items = alerts.map { alert in
            let rule = RuleID(rawValue: alert.rule)
            let breach = alert.kind == "breach"
            return Item(
                id: String(alert.alertId), caseHref: "/cases/\(alert.caseId.uuidString.lowercased())", reference: alert.reference,
                title: (rule?.title ?? alert.rule) + (alert.key.map { " (\($0))" } ?? ""), dueOn: CivilDate(iso: alert.dueOn)?.long ?? alert.dueOn,
                kind: breach ? "Deadline passed" : "Reminder" + (alert.daysBefore.map { ": \($0) days to go" } ?? ""), read: alert.read,
                tag: breach ? .overdue : .dueSoon)
        }
        let view = View(
            layout: Layout(title: "Alerts", session: context.sessions.session, current: "/alerts"), items: items, isEmpty: items.isEmpty,
            canSeeUndelivered: Roles.administer.union([.manager, .auditor]).contains(user.role))
        return pages.render("alerts", view)
    }

    @Sendable func markRead(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read alerts")
        _ = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        guard let id = context.parameters.get("alertId").flatMap({ Int64($0) }) else { throw Problem.notFound("alertId", "") }
        _ = try await deps.alerts.markRead(alertId: id, recipient: user.name, council: user.councilId, once: nil) { found in
            guard found else { throw Problem.notFound("alertId", String(id)) }
            return KeptResponse(status: 204)
        }
        return Pages.redirect("/alerts")
    }
}
