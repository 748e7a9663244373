import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Changing an entry of the timeline, never editing it: "correct the date" records an `EventCorrected`
/// with the right date, and "recorded in error" an `EventRetracted` (statutory-timescales.md §4). Each
/// asks why, goes through "check your answers", and is decided and written like any other event.
struct ChangeEntry: Sendable {
    let deps: APIDependencies
    let pages: Pages

    enum Change: String {
        case correct, retract

        var title: String { self == .correct ? "Correct the date of an entry" : "Mark an entry as recorded in error" }
        var questions: [EventForm.Question] {
            switch self {
            case .correct:
                [
                    .init(field: "occurredOn", label: "What is the right date?", hint: "For example, 27 3 2026", input: .date),
                    .init(field: "reason", label: "Why is it being corrected?", hint: "In general terms: no personal details", input: .text),
                ]
            case .retract:
                [.init(field: "reason", label: "Why was it recorded in error?", hint: "In general terms: no personal details", input: .text)]
            }
        }
    }

    struct FormView {
        var layout: Layout
        var reference: String
        var action: String
        var title: String
        var entry: String
        var questions: [QuestionView]
        var version: Int
    }

    @Sendable func form(_ request: Request, context: APIContext) async throws -> Response {
        let (_, caseId, found, change, target) = try await load(context)
        return page(change, target: target, answers: WebForm(), errors: [], caseId: caseId, found: found, context: context, status: .ok)
    }

    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        // The form's token is checked before the case is read (a read of a child's details is logged).
        let answers = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        let (user, caseId, found, change, target) = try await load(context)
        func again(_ errors: [FieldError], status: HTTPResponse.Status = .unprocessableContent) -> Response {
            page(change, target: target, answers: answers, errors: errors, caseId: caseId, found: found, context: context, status: status)
        }
        if answers["step"] == "change" { return again([], status: .ok) }
        var errors: [FieldError] = []
        let reason = answers.text("reason")
        if reason == nil {
            errors.append(FieldError(field: "reason", message: "Enter why"))
        } else if reason!.count > 200 {
            errors.append(FieldError(field: "reason", message: "The reason must be 200 characters or fewer"))
        }
        var newDate: CivilDate?
        if change == .correct {
            switch FormDate.read(answers, field: "occurredOn", label: "The right date", optional: false) {
            case .success(let date): newDate = date
            case .failure(let error): errors.append(error)
            }
        }
        guard errors.isEmpty, let reason else { return again(errors) }
        let event: CaseEvent =
            change == .correct
            ? .eventCorrected(EventCorrected(targetVersion: target.version, occurredOn: newDate, reason: reason))
            : .eventRetracted(EventRetracted(targetVersion: target.version, reason: reason))
        let path = "/cases/\(caseId.uuidString.lowercased())"
        let version = answers["version"].flatMap { Int($0) } ?? found.state.version
        let form = EventForm(kind: event.kind, title: change.title, questions: change.questions, dateQuestion: "")
        switch try await FormWrite(deps: deps).run(
            event, on: deps.today(), caseId: caseId, user: user, answers: answers, shownVersion: found.state.version)
        {
        case .recorded(let version): return Pages.redirect("\(path)?recorded=\(version)#entry-\(target.version)")
        case .refused(let refusal):
            var explained = RecordEvent.explain(refusal, form: form)
            if explained.field.hasPrefix("occurredOn") && change == .retract { explained.field = "reason" }
            return again([explained])
        case .caseChanged: return again([FieldError(field: "reason", message: FormWrite.caseChanged)])
        case .checked: break
        }
        let answered = change.questions.map { Answer(question: $0.label, answer: QuestionView.describe($0, answers: answers)) }
        let view = CheckView(
            layout: Layout(title: "Check your answers", session: context.sessions.session), reference: found.reference,
            action: "\(path)/events/\(target.version)/\(change.rawValue)", title: "\(change.title): entry \(target.version)", answers: answered,
            hidden: FormWrite.hidden(answers, version: version))
        return pages.render("record-check", view)
    }

    private func load(_ context: APIContext) async throws -> (AuthenticatedUser, UUID, CaseWork.Case, Change, RecordedEvent) {
        let user = try context.require(Roles.writeCases, to: "change case events")
        let caseId = try CasePage.caseId(context)
        guard let change = Change(rawValue: context.parameters.get("change") ?? ""),
            let version = context.parameters.get("version").flatMap({ Int($0) })
        else { throw Problem.notFound("change", "") }
        guard let found = try await deps.cases.show(caseId, for: deps.caller(user, context)),
            let target = found.state.history.first(where: { $0.version == version })
        else { throw Problem.notFound("caseId", caseId.uuidString.lowercased()) }
        return (user, caseId, found, change, target)
    }

    private func page(
        _ change: Change, target: RecordedEvent, answers: WebForm, errors: [FieldError], caseId: UUID, found: CaseWork.Case, context: APIContext,
        status: HTTPResponse.Status
    ) -> Response {
        let href = "/cases/\(caseId.uuidString.lowercased())"
        let layout = Layout(title: change.title, session: context.sessions.session, backLink: href + "#entry-\(target.version)", errors: errors)
        let view = FormView(
            layout: layout, reference: found.reference, action: "\(href)/events/\(target.version)/\(change.rawValue)", title: change.title,
            entry: "Entry \(target.version): \(EventForm.of(target.event.kind).title), \(target.occurredOn.long)",
            questions: change.questions.map { QuestionView($0, answers: answers, errors: errors) }, version: found.state.version)
        return pages.render("change-entry", view, status: status)
    }
}
