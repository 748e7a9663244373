import EHCPDomain
import Foundation

/// A question on a form page as its template shows it (the `question` partial): a text box, a number,
/// a GOV.UK date input (day, month, year) or radios, with its hint and its error.
struct QuestionView {
    var field: String
    var label: String
    var hint: String?
    var optional: Bool
    var error: String?
    var isText: Bool
    var isNumber: Bool
    var isDate: Bool
    var isChoice: Bool
    var value: String
    var day: String
    var month: String
    var year: String
    var options: [Option]

    init(_ question: EventForm.Question, answers: WebForm, errors: [FieldError]) {
        var values: [String] = []
        var choice = false
        (isDate, isNumber) = (false, false)
        switch question.input {
        case .choice(let offered), .choiceList(let offered):
            values = offered
            choice = true
        case .date: isDate = true
        case .number: isNumber = true
        case .text: break
        }
        field = question.field
        label = question.label
        hint = question.hint
        optional = question.optional
        error = errors.first { $0.field == question.field || $0.field == question.field + "-day" }?.message
        isChoice = choice
        isText = !isDate && !isNumber && !choice
        value = answers[question.field] ?? ""
        day = answers[question.field + "-day"] ?? ""
        month = answers[question.field + "-month"] ?? ""
        year = answers[question.field + "-year"] ?? ""
        options = values.map { Option(value: $0, text: Self.optionText($0), selected: answers[question.field] == $0) }
    }

    /// An option in words: a rule by its title, a kind (`personalCircumstances`) humanised, an id as it is.
    static func optionText(_ value: String) -> String {
        if let rule = RuleID(rawValue: value) { return "\(rule.title) (\(rule.rawValue))" }
        return value.allSatisfy(\.isLetter) && value.first?.isLowercase == true ? value.humanised : value
    }

    /// The answer as "check your answers" shows it.
    static func describe(_ question: EventForm.Question, answers: WebForm) -> String {
        switch question.input {
        case .date:
            guard case .success(let date?) = FormDate.read(answers, field: question.field, label: question.label, optional: true) else { return "" }
            return date.long
        case .choice, .choiceList: return answers.text(question.field).map(optionText) ?? ""
        case .text, .number: return answers.text(question.field) ?? ""
        }
    }
}

/// A hidden field carried from a form to its "check your answers" page.
struct Hidden {
    var name: String
    var value: String
}

/// A row of "check your answers".
struct Answer {
    var question: String
    var answer: String
}

/// A GOV.UK date input's three boxes, `FIELD-day`, `FIELD-month` and `FIELD-year`, as a date.
enum FormDate {
    /// The date, nil when all three are blank and the question is optional, or the error to show.
    static func read(_ answers: WebForm, field: String, label: String, optional: Bool) -> Result<CivilDate?, FieldError> {
        let parts = ["day", "month", "year"].map { answers.text("\(field)-\($0)") }
        let name = label.replacingOccurrences(of: "?", with: "")
        if parts.allSatisfy({ $0 == nil }) {
            return optional ? .success(nil) : .failure(FieldError(field: field + "-day", message: "Enter the date: \(name.lowercased())"))
        }
        guard let day = parts[0].flatMap({ Int($0) }), let month = parts[1].flatMap({ Int($0) }), let year = parts[2].flatMap({ Int($0) }),
            (1000...9999).contains(year), let date = CivilDate(year: year, month: month, day: day)
        else {
            return .failure(FieldError(field: field + "-day", message: "\(name) must be a real date, like 27 3 2026"))
        }
        return .success(date)
    }
}

extension String {
    /// Every ISO date (2026-11-30) in a message written as people write dates (30 November 2026).
    var withLongDates: String {
        var text = self
        for match in text.matches(of: /\d{4}-\d{2}-\d{2}/).reversed() {
            if let date = CivilDate(iso: text[match.range]) { text.replaceSubrange(match.range, with: date.long) }
        }
        return text
    }
}
