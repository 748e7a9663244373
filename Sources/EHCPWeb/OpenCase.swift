import Crypto
import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Opening a case: the child's details and the request, then "check your answers", then
/// `CaseWork.open`, the API's own path (the child's record and the opening event in one transaction,
/// logged as an opening). The child's details travel only in form bodies, never in a URL.
struct OpenCase: Sendable {
    let deps: APIDependencies
    let pages: Pages

    struct FormView {
        var layout: Layout
        var questions: [QuestionView]
    }
    struct CheckView {
        var layout: Layout
        var answers: [Answer]
        var hidden: [Hidden]
    }

    static let questions: [EventForm.Question] = [
        .init(field: "forename", label: "Child's first name", input: .text),
        .init(field: "surname", label: "Child's last name", input: .text),
        .init(field: "bornOn", label: "Child's date of birth", hint: "For example, 27 3 2016", input: .date),
        .init(field: "requestSource", label: "Who asked for the assessment", input: .choice(RequestSource.allCases.map(\.rawValue))),
        .init(field: "requestedOn", label: "When was the request received?", hint: "For example, 27 3 2026", input: .date),
    ]

    @Sendable func form(_ request: Request, context: APIContext) async throws -> Response {
        _ = try context.require(Roles.writeCases, to: "open cases")
        return page(WebForm(), errors: [], context: context, status: .ok)
    }

    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.writeCases, to: "open cases")
        let answers = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        if answers["step"] == "change" { return page(answers, errors: [], context: context, status: .ok) }
        var errors: [FieldError] = []
        var names: [String: String] = [:]
        for field in ["forename", "surname"] {
            let label = field == "forename" ? "first name" : "last name"
            guard let value = answers.text(field) else {
                errors.append(FieldError(field: field, message: "Enter the child's \(label)"))
                continue
            }
            if !ChildRecord.acceptsName(value) {
                errors.append(FieldError(field: field, message: "The child's \(label) must be 100 characters or fewer"))
            }
            names[field] = value
        }
        var dates: [String: CivilDate] = [:]
        for question in Self.questions where { if case .date = question.input { true } else { false } }() {
            switch FormDate.read(answers, field: question.field, label: question.label, optional: false) {
            case .success(let date): dates[question.field] = date
            case .failure(let error): errors.append(error)
            }
        }
        let source = answers.text("requestSource").flatMap(RequestSource.init(rawValue:))
        if source == nil { errors.append(FieldError(field: "requestSource", message: "Select who asked for the assessment")) }
        guard errors.isEmpty, let forename = names["forename"], let surname = names["surname"], let bornOn = dates["bornOn"],
            let requestedOn = dates["requestedOn"], let source, let authority = Roles.authority(user.role)
        else { return page(answers, errors: errors, context: context, status: .unprocessableContent) }
        let command = LogEvent(
            .requestReceived(RequestReceived(requestSource: source)), on: requestedOn, by: user.name, today: deps.today(), authority: authority)
        // The opening event is decided on an empty case: a refusal (a date after today) shows on the form.
        do throws(CaseError) {
            _ = try deps.repository.decider.decide(CaseState(), command)
        } catch {
            return page(
                answers, errors: [RecordEvent.explain(error, form: EventForm.of(.requestReceived)).on("requestedOn")], context: context,
                status: .unprocessableContent)
        }
        if answers["step"] != "record" {
            let answered = Self.questions.map { Answer(question: $0.label, answer: QuestionView.describe($0, answers: answers)) }
            let view = CheckView(
                layout: Layout(title: "Check your answers", session: context.sessions.session), answers: answered,
                hidden: FormWrite.hidden(answers, version: 0))
            return pages.render("open-check", view)
        }
        let key = answers["writeKey"] ?? ""
        guard (32...64).contains(key.utf8.count) else { throw Problem.invalid(field: "writeKey", value: nil, "the form is incomplete") }
        var hasher = SHA256()
        hasher.update(data: Array("\(user.userId) open \(forename) \(surname) \(bornOn) \(source) \(requestedOn)".utf8))
        let child = ChildRecord(id: UUID(), forename: forename, surname: surname, bornOn: bornOn, sex: nil, postcode: nil, upn: nil)
        let opened = try await deps.cases.open(
            caseId: UUID(), command: command, child: child, reference: nil,
            idempotency: Idempotency(key: "web-" + key, requestHash: hasher.finalize().map { String(format: "%02x", $0) }.joined()),
            for: deps.caller(user, context))
        return Pages.redirect("/cases/\(opened.caseId.uuidString.lowercased())?recorded=1")
    }

    private func page(_ answers: WebForm, errors: [FieldError], context: APIContext, status: HTTPResponse.Status) -> Response {
        let layout = Layout(title: "Open a case", session: context.sessions.session, current: "/cases/new", errors: errors)
        let view = FormView(layout: layout, questions: Self.questions.map { QuestionView($0, answers: answers, errors: errors) })
        return pages.render("open-case", view, status: status)
    }
}

extension FieldError {
    /// The same error, against another question (a date question's error links to its day box).
    func on(_ field: String) -> FieldError { FieldError(field: field + "-day", message: message) }
}
