import EHCPDomain
import Foundation

/// What one email says, written when it is queued and kept in the outbox as JSON, so that every attempt
/// sends the same words. It names a case by its reference only: never a child's name, date of birth or
/// anything else about them (docs/operations.md, "What an email may say"). A deadline's key (an advice
/// or review id) is left out: it is chosen by whoever recorded the event and could hold a name.
public struct EmailContent: Codable, Sendable, Hashable {
    /// 'breach', 'reminder' or 'digest': which Notify template it uses.
    public var kind: String
    public var subject: String
    /// Plain text, lines separated by "\n".
    public var body: String
    /// The same content as GOV.UK Notify template fields (docs/operations.md lists them).
    public var personalisation: [String: String]

    /// Where links point: the address people reach the web pages at.
    public struct Links: Sendable {
        public var base: String
        public init(base: String) { self.base = base.hasSuffix("/") ? String(base.dropLast()) : base }
        func `case`(_ id: UUID) -> String { "\(base)/cases/\(id.uuidString.lowercased())" }
        var choices: String { "\(base)/account" }
        var work: String { "\(base)/" }
    }

    /// An immediate email about one breach or reminder.
    static func alert(
        kind: String, reference: String, caseId: UUID, rule: RuleID, dueOn: CivilDate, daysBefore: Int?, daysOverdue: Int?,
        role: String, team: String?, links: Links
    ) -> EmailContent {
        let breach = kind == "breach"
        let deadline = rule.title
        let subject: String
        var lines: [String]
        if breach {
            subject = "Deadline passed: \(reference)"
            lines = ["A statutory deadline has passed for case \(reference).", ""]
        } else {
            let days = daysBefore.map { "\($0) day\($0 == 1 ? "" : "s")" } ?? "a few days"
            subject = "Deadline in \(days): \(reference)"
            lines = ["A statutory deadline for case \(reference) is \(days) away.", ""]
        }
        lines += ["Deadline: \(deadline)", "Due: \(dueOn.longWithWeekday)"]
        if breach, let daysOverdue { lines.append("Overdue by: \(daysOverdue) day\(daysOverdue == 1 ? "" : "s")") }
        lines += ["", "Open the case:", links.case(caseId), ""]
        lines.append(
            role == "manager"
                ? "You get this email because you manage team \(team ?? "(none)"), which holds this case."
                : "You get this email because you are the caseworker for this case.")
        lines.append("Choose which emails you get: \(links.choices)")
        return EmailContent(
            kind: kind, subject: subject, body: lines.joined(separator: "\n"),
            personalisation: [
                "subject": subject, "body": lines.joined(separator: "\n"), "reference": reference, "deadline": deadline,
                "due_date": dueOn.longWithWeekday, "days": String(breach ? daysOverdue ?? 0 : daysBefore ?? 0), "case_link": links.case(caseId),
                "choices_link": links.choices,
            ])
    }

    /// One line of a digest: a deadline and its case.
    struct DigestLine: Sendable, Hashable {
        var reference: String
        var caseId: UUID
        var rule: RuleID
        var dueOn: CivilDate
        var caseworker: String?
    }

    /// The daily digest: what falls due in the next seven days, what is overdue, and what was missed
    /// since the last one. Each section lists its first `shown` lines and says how many more there are.
    static func digest(
        day: CivilDate, dueSoon: [DigestLine], overdue: [DigestLine], missed: [DigestLine], counts: (Int, Int, Int), forTeam team: String?,
        links: Links
    ) -> EmailContent {
        let subject = "Your EHCP deadlines: \(day.longWithWeekday)"
        var lines = [
            team.map { "Deadlines for team \($0) on \(day.longWithWeekday)." } ?? "Your deadlines on \(day.longWithWeekday).", "",
        ]
        func section(_ title: String, _ items: [DigestLine], total: Int, missed: Bool = false) {
            guard total > 0 else { return }
            lines.append("\(title) (\(total))")
            for item in items {
                let who = team != nil ? " – \(item.caseworker ?? "no caseworker")" : ""
                lines.append("- \(item.reference): \(item.rule.title), due \(item.dueOn.long)\(who)")
                lines.append("  \(links.case(item.caseId))")
            }
            if total > items.count { lines.append("- and \(total - items.count) more: see \(links.work)") }
            lines.append("")
        }
        section("Due in the next 7 days", dueSoon, total: counts.0)
        section("Overdue", overdue, total: counts.1)
        section("Missed since your last digest: the case moved on while these were overdue", missed, total: counts.2)
        lines.append("You get this email once a day when something is due, overdue or missed.")
        lines.append("Choose which emails you get: \(links.choices)")
        let body = lines.joined(separator: "\n")
        return EmailContent(
            kind: "digest", subject: subject, body: body,
            personalisation: [
                "subject": subject, "body": body, "day": day.longWithWeekday, "due_soon": String(counts.0), "overdue": String(counts.1),
                "missed": String(counts.2), "work_link": links.work, "choices_link": links.choices,
            ])
    }

    var json: String { Outbox.json(self) }
}
