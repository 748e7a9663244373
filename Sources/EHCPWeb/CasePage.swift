import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// The case page: the child, the stage and who holds the case; a clock of the 20-week assessment and
/// of the current review cycle; every deadline with its status; and the timeline, each correction
/// shown against the event it corrects. Read through `CaseWork.show`, so it is logged as a read.
struct CasePage: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct DeadlineRow {
        var title: String
        var rule: String
        var source: String
        var key: String?
        var dueOn: String
        var metOn: String?
        var tag: Tag
        var when: String?
    }
    struct TimelineEntry {
        var version: Int
        var occurredOn: String
        var title: String
        var actor: String
        var details: [Detail]
        var notes: [String]
        var changeable: Bool
        var retractHref: String
        var correctHref: String
        var struckOut: Bool
    }
    struct Detail {
        var name: String
        var value: String
    }
    struct View {
        var layout: Layout
        var reference: String
        var caseHref: String
        var childName: String
        var bornOn: String
        var stage: String
        var caseworker: String
        var team: String
        var openedOn: String
        var clocks: [Clock]
        var deadlines: [DeadlineRow]
        var timeline: [TimelineEntry]
        var canRecord: Bool
        var canReassign: Bool
        var recorded: String?
        /// The evidence pack's address, when the tribunal made an order or the council conceded an appeal.
        var evidenceHref: String?
    }

    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let caseId = try Self.caseId(context)
        guard let found = try await deps.cases.show(caseId, for: deps.caller(user, context)) else {
            throw Problem.notFound("caseId", caseId.uuidString.lowercased())
        }
        let today = deps.today()
        let state = found.state
        let facts = state.facts
        let report = state.deadlines(deps.engine, asOf: today, childBornOn: found.child?.bornOn.flatMap(CivilDate.init(iso:)))
        let deadlines = report.deadlines.sorted { ($0.dueOn, $0.rule) < ($1.dueOn, $1.rule) }
        let href = "/cases/\(caseId.uuidString.lowercased())"
        let childName =
            found.child.map { child in
                child.erasedAt != nil ? "Details erased" : [child.forename, child.surname].compactMap { $0 }.joined(separator: " ")
            } ?? "Not recorded"
        let recorded = request.uri.queryParameters["recorded"].flatMap { Int($0) }.flatMap { version in
            state.history.first { $0.version == version }.map { EventForm.of($0.event.kind).title }
        }
        let view = View(
            layout: Layout(title: "Case \(found.reference)", session: context.sessions.session, backLink: "/cases"),
            reference: found.reference, caseHref: href, childName: childName.isEmpty ? "Not recorded" : childName,
            bornOn: found.child?.bornOn.flatMap(CivilDate.init(iso:))?.long ?? "Not recorded", stage: CasesPage.stageName(facts.stage.rawValue),
            caseworker: facts.caseworker ?? "Not assigned", team: facts.team ?? "None", openedOn: facts.openedOn?.long ?? "Not opened",
            clocks: Clock.clocks(deadlines, facts: facts, today: today),
            deadlines: deadlines.map { Self.row($0, today: today) },
            timeline: Self.timeline(state.history, caseHref: href, mayChange: Roles.writeCases.contains(user.role)),
            canRecord: Roles.writeCases.contains(user.role) && facts.isOpen, canReassign: Roles.assign.contains(user.role) && facts.isOpen,
            recorded: recorded,
            evidenceHref: state.effective.contains {
                switch $0.event {
                case .tribunalOrderMade, .appealConceded: true
                default: false
                }
            } ? "\(href)/tribunal-evidence?format=csv" : nil)
        return pages.render("case", view)
    }

    static func caseId(_ context: APIContext) throws -> UUID {
        let text = context.parameters.get("caseId") ?? ""
        // A malformed id names no case: the page is not found, as for another council's case.
        guard let id = UUID(uuidString: text) else { throw Problem.notFound("caseId", "") }
        return id
    }

    /// A deadline's tag: met, met late, overdue, missed (the case moved past it), due soon (within 14
    /// days), excepted or cancelled; the family's windows are never the council's to breach.
    static func tag(_ deadline: Deadline, today: CivilDate) -> Tag {
        if deadline.rule.kind != .duty { return deadline.dueOn >= today ? .window : .expired }
        switch deadline.status {
        case .met: return .met
        case .metLate: return .metLate
        case .breached: return .overdue
        case .missed: return .missed
        case .excepted: return .excepted
        case .cancelled: return .cancelled
        case .expired: return .expired
        case .open: return today.days(until: deadline.dueOn) <= 14 ? .dueSoon : .due
        }
    }

    static func row(_ deadline: Deadline, today: CivilDate) -> DeadlineRow {
        let tag = tag(deadline, today: today)
        let days = today.days(until: deadline.dueOn)
        let when: String? =
            switch deadline.status {
            case .open where deadline.rule.kind == .duty: days == 0 ? "Due today" : "\(days) day\(days == 1 ? "" : "s") left"
            case .breached where deadline.rule.kind == .duty: "\(-days) day\(days == -1 ? "" : "s") overdue"
            default: nil
            }
        return DeadlineRow(
            title: deadline.rule.title, rule: deadline.rule.rawValue, source: deadline.rule.source, key: deadline.key,
            dueOn: deadline.dueOn.long, metOn: deadline.metOn?.long, tag: tag, when: when)
    }

    /// Newest first; a corrected event names its correction, a retracted one is struck out.
    static func timeline(_ history: [RecordedEvent], caseHref: String, mayChange: Bool) -> [TimelineEntry] {
        var notes: [Int: [String]] = [:]
        var retracted = Set<Int>()
        for recorded in history {
            switch recorded.event {
            case .eventCorrected(let correction):
                notes[correction.targetVersion, default: []].append("Corrected by entry \(recorded.version)")
                notes[recorded.version, default: []].append("Corrects entry \(correction.targetVersion)")
            case .eventRetracted(let retraction):
                notes[retraction.targetVersion, default: []].append("Marked as recorded in error by entry \(recorded.version)")
                notes[recorded.version, default: []].append("Marks entry \(retraction.targetVersion) as recorded in error")
                retracted.insert(retraction.targetVersion)
            default: break
            }
        }
        return history.reversed().map { recorded in
            let details = EventCodec.encode(recorded.event).sorted { $0.key < $1.key }.compactMap { name, value -> Detail? in
                guard !["targetVersion", "data", "childId"].contains(name) else { return nil }
                return Detail(name: name.humanised, value: Self.describe(value))
            }
            let changeable =
                mayChange && !recorded.event.isSchedulerRecord && !retracted.contains(recorded.version)
                && recorded.event.kind != .eventRetracted && !recorded.event.opensCase
            return TimelineEntry(
                version: recorded.version, occurredOn: recorded.occurredOn.long, title: EventForm.of(recorded.event.kind).title,
                actor: recorded.actor == "system" ? "The deadline scheduler" : recorded.actor, details: details,
                notes: notes[recorded.version] ?? [], changeable: changeable,
                retractHref: "\(caseHref)/events/\(recorded.version)/retract", correctHref: "\(caseHref)/events/\(recorded.version)/correct",
                struckOut: retracted.contains(recorded.version))
        }
    }

    static func describe(_ value: JSONValue) -> String {
        switch value {
        case .string(let text):
            // A date in words, a rule by its title, a code (`finalPlan`) humanised, anything else as written.
            CivilDate(iso: text).map(\.long) ?? RuleID(rawValue: text).map { "\($0.title) (\($0.rawValue))" }
                ?? (text.allSatisfy(\.isLetter) && text.contains(where: \.isUppercase) && text.first?.isLowercase == true ? text.humanised : text)
        case .number(let number): number == number.rounded() ? String(Int(number)) : String(number)
        case .bool(let flag): flag ? "Yes" : "No"
        case .array(let items): items.map(describe).joined(separator: ", ")
        case .null: "None"
        case .object: "Details recorded"
        }
    }
}
