import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// My work, the caseworker's home page: what falls due in the next 14 days and what is overdue and can
/// still be done, grouped by week. A manager can switch to their team's.
struct WorkPage: Sendable {
    let deps: APIDependencies
    let pages: Pages
    static let days = 14
    /// Items a page lists, the earliest first: more is not a list anyone works through in a day.
    static let shown = 200

    struct Item {
        var caseHref: String
        var reference: String
        var title: String
        var source: String
        var dueOn: String
        var when: String
        var tag: Tag
        var caseworker: String?
    }
    struct Group {
        var heading: String
        var items: [Item]
    }
    struct View {
        var layout: Layout
        var groups: [Group]
        var isEmpty: Bool
        var showTeam: Bool
        var canSeeTeam: Bool
        var count: Int
        var more: Bool
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "see work")
        let canSeeTeam = Roles.assign.contains(user.role) && user.team != nil
        let showTeam = canSeeTeam && request.uri.queryParameters["view"] == "team"
        let today = deps.today()
        var actionable = try await deps.cases.workTray(
            caseworker: showTeam ? nil : user.name, team: showTeam ? user.team : nil, days: Self.days, today: today,
            limit: Self.shown + 1, council: user.councilId)
        let more = actionable.count > Self.shown
        actionable = Array(actionable.prefix(Self.shown))
        let groups = Self.group(actionable, today: today, showCaseworker: showTeam)
        let view = View(
            layout: Layout(title: showTeam ? "Team work" : "My work", session: context.sessions.session, current: "/"), groups: groups,
            isEmpty: groups.isEmpty, showTeam: showTeam, canSeeTeam: canSeeTeam, count: actionable.count, more: more)
        return pages.render("my-work", view)
    }

    /// Overdue first, then by the week (Monday to Sunday) each falls due in.
    static func group(_ items: [CaseQueries.TrayItem], today: CivilDate, showCaseworker: Bool) -> [Group] {
        let endOfWeek = today.adding(days: 6 - today.weekdayIndex)
        var groups: [Group] = []
        func add(_ heading: String, _ chosen: [CaseQueries.TrayItem]) {
            guard !chosen.isEmpty else { return }
            groups.append(Group(heading: heading, items: chosen.map { item($0, showCaseworker: showCaseworker) }))
        }
        add("Overdue", items.filter { $0.daysRemaining < 0 })
        add(
            "Due this week, to \(endOfWeek.longWithWeekday)",
            items.filter { $0.daysRemaining >= 0 && $0.daysRemaining <= today.days(until: endOfWeek) })
        let endOfNext = endOfWeek.adding(days: 7)
        add(
            "Due next week, to \(endOfNext.longWithWeekday)",
            items.filter { $0.daysRemaining > today.days(until: endOfWeek) && $0.daysRemaining <= today.days(until: endOfNext) })
        add("Due later", items.filter { $0.daysRemaining > today.days(until: endOfNext) })
        return groups
    }

    static func item(_ item: CaseQueries.TrayItem, showCaseworker: Bool) -> Item {
        let rule = RuleID(rawValue: item.rule)
        let days = item.daysRemaining
        let when =
            days < 0 ? "\(-days) day\(days == -1 ? "" : "s") overdue" : days == 0 ? "Due today" : "\(days) day\(days == 1 ? "" : "s") left"
        let tag: Tag = days < 0 ? (item.status == "excepted" ? .excepted : .overdue) : days <= 7 ? .dueSoon : .due
        return Item(
            caseHref: "/cases/\(item.caseId.uuidString.lowercased())", reference: item.reference, title: rule?.title ?? item.rule,
            source: rule?.source ?? "", dueOn: CivilDate(iso: item.dueOn)?.long ?? item.dueOn, when: when, tag: tag,
            caseworker: showCaseworker ? item.caseworker : nil)
    }
}

/// A GOV.UK status tag: its words and its colour class. The words always carry the meaning; the colour
/// only repeats it.
struct Tag: Sendable {
    var text: String
    var colour: String

    static let met = Tag(text: "Met", colour: "green")
    static let metLate = Tag(text: "Met late", colour: "orange")
    static let overdue = Tag(text: "Overdue", colour: "red")
    static let missed = Tag(text: "Missed", colour: "grey")
    static let dueSoon = Tag(text: "Due soon", colour: "yellow")
    static let due = Tag(text: "Due", colour: "blue")
    static let excepted = Tag(text: "Excepted", colour: "purple")
    static let cancelled = Tag(text: "Cancelled", colour: "grey")
    static let window = Tag(text: "Family's time", colour: "turquoise")
    static let expired = Tag(text: "Passed", colour: "grey")
}
