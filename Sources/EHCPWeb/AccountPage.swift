import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// "Your email alerts": the address an administrator set, a warning when it bounced, the three choices
/// (an email on a breach, on a reminder, a daily digest), and for a manager, their team's addresses that bounced.
struct AccountPage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Choice {
        var name: String
        var label: String
        var hint: String
        var checked: Bool
    }
    struct Bounce {
        var name: String
        var since: String
        var failure: String
    }
    struct View {
        var layout: Layout
        var saved: Bool
        var address: String?
        var failure: String?
        var failedOn: String?
        var canChoose: Bool
        var choices: [Choice]
        var isManager: Bool
        var bounces: [Bounce]
        var hasBounces: Bool
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read your email alerts")
        let choices = try await deps.alerts.emailChoices(of: user.name, council: user.councilId) ?? EmailChoices(address: nil)
        let bounces =
            user.role == .manager
            ? try await deps.alerts.emailFailures(team: user.team ?? "", council: user.councilId).map {
                Bounce(name: $0.name, since: London.date(of: $0.failedAt).long, failure: $0.failure)
            } : []
        let view = View(
            layout: Layout(title: "Your email alerts", session: context.sessions.session, current: "/account"),
            saved: request.uri.queryParameters["saved"] != nil, address: choices.address, failure: choices.failure,
            failedOn: choices.failedAt.map { London.date(of: $0).long }, canChoose: user.role != .auditor,
            choices: [
                Choice(
                    name: "onBreach", label: "When a deadline passes", hint: "An email the day after one of your deadlines passes without being met.",
                    checked: choices.onBreach),
                Choice(
                    name: "onReminder", label: "Before a deadline", hint: "An email for each reminder, for example 7 days before a deadline.",
                    checked: choices.onReminder),
                Choice(
                    name: "dailyDigest", label: "A daily summary",
                    hint:
                        "One email each morning listing what is due this week, what is overdue and what was missed. Sent only when there is something to say.",
                    checked: choices.dailyDigest),
            ], isManager: user.role == .manager, bounces: bounces, hasBounces: !bounces.isEmpty)
        return pages.render("account", view)
    }

    @Sendable func save(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.writeCases, to: "choose which emails you get")
        let form = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        _ = try await deps.alerts.chooseEmails(
            of: user.name, onBreach: form["onBreach"] == "yes", onReminder: form["onReminder"] == "yes", dailyDigest: form["dailyDigest"] == "yes",
            council: user.councilId, once: nil
        ) { found in
            guard found else { throw Problem.notFound("user", user.name) }
            return KeptResponse(status: 204)
        }
        return Pages.redirect("/account?saved=1")
    }
}
