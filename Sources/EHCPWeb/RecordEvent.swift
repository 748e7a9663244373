import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Recording what happened: choose from the events the domain allows next, answer its questions, check
/// the answers, then one write through the same command path as the API (`CaseWork.record`). A refusal
/// by a rule is shown in an error summary naming the rule and its regulation, and nothing is written.
///
/// The answers travel in the form (never in a URL). The check page pins the case version it was shown
/// with, and carries a key that makes a second press of "Record" replay the first.
struct RecordEvent: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct Choice {
        var href: String
        var title: String
    }
    struct ChooseView {
        var layout: Layout
        var reference: String
        var choices: [Choice]
        var isEmpty: Bool
    }
    struct FormView {
        var layout: Layout
        var reference: String
        var action: String
        var title: String
        var dateQuestion: QuestionView
        var questions: [QuestionView]
        var version: Int
    }

    /// The events that may come next, as links.
    @Sendable func choose(_ request: Request, context: APIContext) async throws -> Response {
        let (user, caseId, found) = try await load(context)
        guard let authority = Roles.authority(user.role) else {
            throw Problem(.forbidden, title: "Forbidden", detail: "your role records nothing", code: "forbidden")
        }
        let next = deps.repository.decider.nextEvents(found.state, authority: authority, today: deps.today())
        let href = "/cases/\(caseId.uuidString.lowercased())"
        let choices = next.map { Choice(href: "\(href)/record/\($0.kind.rawValue)", title: EventForm.of($0.kind).title) }
        let view = ChooseView(
            layout: Layout(title: "What happened on case \(found.reference)?", session: context.sessions.session, backLink: href),
            reference: found.reference, choices: choices, isEmpty: choices.isEmpty)
        return pages.render("record-choose", view)
    }

    @Sendable func form(_ request: Request, context: APIContext) async throws -> Response {
        let (user, caseId, found) = try await load(context)
        let (form, choices) = try offered(context, state: found.state, user: user)
        return formPage(
            form, choices: choices, answers: WebForm(), errors: [], caseId: caseId, reference: found.reference,
            version: found.state.version, context: context)
    }

    /// One handler for the form's three steps: `check` (from the questions), `change` and `record` (from the check page).
    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        // The form's token is checked before the case is read (a read of a child's details is logged).
        let answers = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        let (user, caseId, found) = try await load(context)
        let (form, choices) = try offered(context, state: found.state, user: user, recording: answers["step"] == "record" ? answers : nil)
        func again(_ errors: [FieldError], status: HTTPResponse.Status = .unprocessableContent) -> Response {
            formPage(
                form, choices: choices, answers: answers, errors: errors, caseId: caseId, reference: found.reference,
                version: found.state.version, context: context, status: status)
        }
        if answers["step"] == "change" { return again([], status: .ok) }
        let (envelope, errors) = Self.envelope(form, choices: choices, answers: answers)
        guard let envelope, errors.isEmpty else { return again(errors) }
        let event: CaseEvent
        let occurredOn: CivilDate
        do {
            let decoded = try EventEnvelope.decode(envelope)
            (event, occurredOn) = (decoded.event, decoded.occurredOn)
        } catch {
            return again([Self.explain(error, form: form)])
        }
        let path = "/cases/\(caseId.uuidString.lowercased())"
        let version = answers["version"].flatMap { Int($0) } ?? found.state.version
        switch try await FormWrite(deps: deps).run(
            event, on: occurredOn, caseId: caseId, user: user, answers: answers, shownVersion: found.state.version)
        {
        case .recorded(let version): return Pages.redirect("\(path)?recorded=\(version)")
        case .refused(let refusal): return again([Self.explain(refusal, form: form)])
        case .caseChanged: return again([FieldError(field: "occurredOn-day", message: FormWrite.caseChanged)])
        case .checked: break
        }
        var answered = [Answer(question: form.dateQuestion, answer: occurredOn.long)]
        for question in form.questions(choices: choices) {
            let value = QuestionView.describe(question, answers: answers)
            if !value.isEmpty || !question.optional { answered.append(Answer(question: question.label, answer: value.isEmpty ? "Not given" : value)) }
        }
        let view = CheckView(
            layout: Layout(title: "Check your answers", session: context.sessions.session), reference: found.reference,
            action: "\(path)/record/\(form.kind.rawValue)", title: form.title, answers: answered,
            hidden: FormWrite.hidden(answers, version: version))
        return pages.render("record-check", view)
    }

    // MARK: - Parts

    private func load(_ context: APIContext) async throws -> (AuthenticatedUser, UUID, CaseWork.Case) {
        let user = try context.require(Roles.writeCases, to: "record case events")
        let caseId = try CasePage.caseId(context)
        guard let found = try await deps.cases.show(caseId, for: deps.caller(user, context)) else {
            throw Problem.notFound("caseId", caseId.uuidString.lowercased())
        }
        return (user, caseId, found)
    }

    /// The form for the event in the path, if the domain offers it on this case today. When the answers
    /// are being recorded, an event no longer offered is still read, with the references its answers
    /// name: the write is then a replay of the first press of "Record" (the write key finds it), or the
    /// rules refuse it and say why. It must not be "page not found".
    private func offered(_ context: APIContext, state: CaseState, user: AuthenticatedUser, recording answers: WebForm? = nil) throws -> (
        EventForm, [String: [String]]
    ) {
        guard let kind = EventKind(rawValue: context.parameters.get("event") ?? ""), let authority = Roles.authority(user.role) else {
            throw Problem.notFound("event", context.parameters.get("event") ?? "")
        }
        let form = EventForm.of(kind)
        let next = deps.repository.decider.nextEvents(state, authority: authority, today: deps.today()).first { $0.kind == kind }
        guard next != nil || answers != nil else { throw Problem.notFound("event", kind.rawValue) }
        var choices = next?.choices ?? [:]
        // Recording: the references the answers name stand, whatever is offered now (a second press of
        // "Record" names the advice the first one recorded); the write replays or the rules decide.
        for question in form.questions {
            switch question.input {
            case .choice(let values) where values.isEmpty, .choiceList(let values) where values.isEmpty:
                if let given = answers?.text(question.field), !(choices[question.field] ?? []).contains(given) {
                    choices[question.field, default: []].append(given)
                }
            default: break
            }
        }
        return (form, choices)
    }

    private func formPage(
        _ form: EventForm, choices: [String: [String]], answers: WebForm, errors: [FieldError], caseId: UUID, reference: String, version: Int,
        context: APIContext, status: HTTPResponse.Status = .ok
    ) -> Response {
        let href = "/cases/\(caseId.uuidString.lowercased())"
        let layout = Layout(title: form.title, session: context.sessions.session, backLink: "\(href)/record", errors: errors)
        func view(_ question: EventForm.Question) -> QuestionView { QuestionView(question, answers: answers, errors: errors) }
        let dateQuestion = view(EventForm.Question(field: "occurredOn", label: form.dateQuestion, hint: "For example, 27 3 2026", input: .date))
        let formView = FormView(
            layout: layout, reference: reference, action: "\(href)/record/\(form.kind.rawValue)", title: form.title, dateQuestion: dateQuestion,
            questions: form.questions(choices: choices).map(view), version: version)
        return pages.render("record-form", formView, status: status)
    }

    /// The answers as the API's envelope `{type, occurredOn, data}`, or the questions left unanswered.
    static func envelope(_ form: EventForm, choices: [String: [String]], answers: WebForm) -> ([String: JSONValue]?, [FieldError]) {
        var errors: [FieldError] = []
        var data: [String: JSONValue] = [:]
        func date(_ field: String, label: String, optional: Bool) -> String? {
            switch FormDate.read(answers, field: field, label: label, optional: optional) {
            case .success(let date): return date?.description
            case .failure(let error):
                errors.append(error)
                return nil
            }
        }
        let occurredOn = date("occurredOn", label: form.dateQuestion, optional: false)
        for question in form.questions(choices: choices) {
            switch question.input {
            case .date:
                if let value = date(question.field, label: question.label, optional: question.optional) { data[question.field] = .string(value) }
            case .number:
                guard let text = answers.text(question.field) else {
                    if !question.optional { errors.append(FieldError(field: question.field, message: "Enter the \(question.label.lowercased())")) }
                    continue
                }
                guard let number = Int(text) else {
                    errors.append(FieldError(field: question.field, message: "\(question.label) must be a whole number, like 2027"))
                    continue
                }
                data[question.field] = .number(Double(number))
            case .choice(let options), .choiceList(let options):
                guard let value = answers.text(question.field), options.contains(value) else {
                    if !question.optional || answers.text(question.field) != nil {
                        errors.append(FieldError(field: question.field, message: "Select the \(question.label.lowercased())"))
                    }
                    continue
                }
                if question.field == "reason", form.kind == .planCeased {
                    data[question.field] = .number(Double(Int(value) ?? 0))
                } else if case .choiceList = question.input {
                    data[question.field] = .array([.string(value)])
                } else {
                    data[question.field] = .string(value)
                }
            case .text:
                guard let value = answers.text(question.field) else {
                    if !question.optional { errors.append(FieldError(field: question.field, message: "Enter the \(question.label.lowercased())")) }
                    continue
                }
                guard value.count <= 200 else {
                    errors.append(FieldError(field: question.field, message: "\(question.label) must be 200 characters or fewer"))
                    continue
                }
                data[question.field] = .string(value)
            }
        }
        guard let occurredOn, errors.isEmpty else { return (nil, errors) }
        return (["type": .string(form.kind.rawValue), "occurredOn": .string(occurredOn), "data": .object(data)], [])
    }

    /// A refusal in plain words, with the rule and its regulation when a rule refused it, against the
    /// question it is about.
    static func explain(_ error: CaseError, form: EventForm) -> FieldError {
        var field = (error.field ?? "occurredOn").replacingOccurrences(of: "data.", with: "")
        if field == "type" || field == "occurredOn" { field = "occurredOn" }
        let isDate = field == "occurredOn" || form.questions.contains { if case .date = $0.input { $0.field == field } else { false } }
        if !isDate && !form.questions.contains(where: { $0.field == field }) { field = "occurredOn" }
        let message = error.message.prefix(1).uppercased() + error.message.dropFirst()
        let subject =
            field == "occurredOn" && error.field == "occurredOn"
            ? "The date \(error.value.flatMap { CivilDate(iso: $0)?.long } ?? "") "
            : error.message.first?.isLowercase == true ? (error.value.map(QuestionView.optionText) ?? "This") + " " : ""
        let text = subject.isEmpty ? message : subject + error.message
        let rule = error.rule.map { "\($0.title) (\($0.rawValue), \($0.source)): " } ?? ""
        return FieldError(field: field + (isDate ? "-day" : ""), message: (rule + text).withLongDates)
    }

    static func explain(_ refusal: EventEnvelope.Refusal, form: EventForm) -> FieldError {
        switch refusal {
        case .invalidEvent(let error): explain(error, form: form)
        case .malformedDate(let field, _): FieldError(field: field + "-day", message: "The date must be a real date, like 27 3 2026")
        case .missing(let field), .unknownField(let field), .notAString(let field, _): FieldError(field: field, message: "Check \(field)")
        }
    }
}
