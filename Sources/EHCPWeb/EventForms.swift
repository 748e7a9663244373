import EHCPDomain

/// How each event a person records is asked for: its name in plain words, and the questions for its
/// data. Which events may be recorded on a case is the domain's answer (`CaseDecider.nextEvents`); the
/// answers are decoded by the same strict decoder as the API's (`EventEnvelope`), so a form can ask
/// for nothing the API would not accept.
struct EventForm: Sendable {
    enum Input: Sendable {
        case text
        case date
        case number
        /// One of these values (shown humanised); from the domain's `choices` when it offers them.
        case choice([String])
        /// One value, sent as a one-element array (an exception's `rules`).
        case choiceList([String])
    }

    struct Question: Sendable {
        var field: String
        var label: String
        var hint: String?
        var input: Input
        var optional = false
    }

    var kind: EventKind
    var title: String
    var questions: [Question] = []
    /// What the date of the event means, for its question ("When was advice received?").
    var dateQuestion: String

    static func of(_ kind: EventKind) -> EventForm {
        func form(_ title: String, _ when: String, _ questions: [Question] = []) -> EventForm {
            EventForm(kind: kind, title: title, questions: questions, dateQuestion: when)
        }
        func q(_ field: String, _ label: String, _ input: Input = .text, hint: String? = nil, optional: Bool = false) -> Question {
            Question(field: field, label: label, hint: hint, input: input, optional: optional)
        }
        let newId = q("id", "", hint: "A short name for it on this case, such as A1")
        switch kind {
        case .requestReceived: return form("Request for an assessment received", "When was the request received?")
        case .becameResponsible: return form("Council became responsible", "When did the council become responsible?")
        case .decidedToAssess: return form("Decided to assess", "When was the decision made?")
        case .decidedNotToAssess: return form("Decided not to assess", "When was the decision made?")
        case .adviceRequested:
            var id = newId
            id.field = "adviceId"
            id.label = "Advice reference"
            return form(
                "Advice requested", "When was advice requested?",
                [
                    id, q("adviceType", "Type of advice", .choice(AdviceType.allCases.map(\.rawValue))),
                    q("provider", "Who gives the advice", hint: "A service or team, never a child's details", optional: true),
                    q("receivedByProviderOn", "When did they receive the request", .date, hint: "If later than the date it was sent", optional: true),
                ])
        case .adviceReceived: return form("Advice received", "When was the advice received?", [q("adviceId", "Which advice", .choice([]))])
        case .outcomesMeetingHeld: return form("Outcomes meeting held", "When was the meeting held?")
        case .decidedNotToIssuePlan: return form("Decided not to issue a plan", "When was the family told?")
        case .draftPlanIssued: return form("Draft plan issued", "When was the draft plan sent?")
        case .settingConsulted:
            return form(
                "School or college consulted", "When was it consulted?",
                [
                    q("consultationId", "Consultation reference", hint: "A short name for it on this case, such as C1"),
                    q("setting", "School or college"),
                ])
        case .consultationResponseReceived:
            return form(
                "Consultation reply received", "When was the reply received?",
                [
                    q("consultationId", "Which consultation", .choice([])),
                    q("response", "Reply", .choice(ConsultationResponse.allCases.map(\.rawValue))),
                ])
        case .finalPlanIssued:
            return form("Final plan issued", "When was the final plan issued?", [q("namedSetting", "School or college named", optional: true)])
        case .requestWithdrawn: return form("Request withdrawn", "When was it withdrawn?", [q("reason", "Why")])
        case .exceptionRecorded:
            return form(
                "Exception to a time limit", "When was the exception recorded?",
                [
                    q("exceptionId", "Exception reference", hint: "A short name for it on this case, such as X1"),
                    q("ground", "Ground", .choice(ExceptionGround.allCases.map(\.rawValue))),
                    q("rules", "Which time limit", .choiceList([])),
                    q("adviceId", "Advice reference", hint: "For an exception to an advice deadline", optional: true),
                    q("from", "First day of the absence or closure", .date, optional: true),
                    q("to", "Last day of the absence or closure", .date, optional: true),
                    q("setting", "School or college closed", optional: true),
                    q("reason", "Circumstances", hint: "In general terms: no medical or personal details", optional: true),
                ])
        case .exceptionWithdrawn:
            return form("Exception withdrawn", "When was it withdrawn?", [q("exceptionId", "Which exception", .choice([]))])
        case .familyToldOfException:
            return form("Family told of the exception", "When was the family told?", [q("exceptionId", "Which exception", .choice([]))])
        case .reviewInvitationsSent:
            return form("Review invitations sent", "When were the invitations sent?", [q("reviewId", "Review reference", hint: "Such as R2026")])
        case .reviewMeetingHeld:
            return form("Review meeting held", "When was the meeting held?", [q("reviewId", "Review reference", hint: "Such as R2026")])
        case .reviewReportReceived:
            return form("Review report received", "When was the report received?", [q("reviewId", "Which review", .choice([]))])
        case .reviewDecisionMade:
            return form(
                "Review decision made", "When was the decision made?",
                [q("reviewId", "Which review", .choice([])), q("decision", "Decision", .choice(ReviewDecision.allCases.map(\.rawValue)))])
        case .amendmentNoticeIssued:
            return form("Proposed amendments sent", "When were they sent?", [q("reviewId", "Review reference", optional: true)])
        case .decidedNotToAmend:
            return form("Decided not to amend", "When was the decision made?", [q("reviewId", "Review reference", optional: true)])
        case .amendedPlanIssued:
            return form("Amended plan issued", "When was the amended plan issued?", [q("namedSetting", "School or college named", optional: true)])
        case .phaseTransferDue:
            return form(
                "Phase transfer due", "When was this recorded?",
                [
                    q("transferYear", "Year of the transfer", .number, hint: "For example, 2027"),
                    q("kind", "Kind of transfer", .choice(PhaseTransferKind.allCases.map(\.rawValue))),
                    q("transferOn", "Date of the transfer", .date, hint: "Only for a post-16 transfer at another time", optional: true),
                ])
        case .reassessmentRequested: return form("Reassessment requested", "When was it requested?")
        case .decidedToReassess: return form("Decided to reassess", "When was the decision made?")
        case .decidedNotToReassess: return form("Decided not to reassess", "When was the decision made?")
        case .planCeased:
            return form(
                "Plan ceased", "When did the plan cease?", [q("reason", "Reason (SEN2 code 1 to 9)", .choice((1...9).map(String.init)))])
        case .transferredIn: return form("Plan transferred in", "When did the plan transfer?")
        case .transferNoticeSent: return form("Family told of the transferred plan", "When was the family told?")
        case .moveNotified:
            return form(
                "Family moving to another area", "When was the council told?",
                [q("moveOn", "Date of the move", .date), q("toAuthority", "New council", optional: true)])
        case .transferredOut: return form("Plan transferred to another council", "When was it transferred?", [q("toAuthority", "New council")])
        case .mediationRequested: return form("Mediation requested", "When was it requested?")
        case .mediationHeld: return form("Mediation held", "When was it held?")
        case .mediationCertificateIssued: return form("Mediation certificate issued", "When was it issued?")
        case .appealLodged: return form("Appeal lodged", "When was the appeal lodged?", [q("appealType", "Against", .choice([]))])
        case .tribunalOrderMade: return form("Tribunal order made", "When was the order made?", [q("order", "Order", .choice([]))])
        case .appealConceded: return form("Appeal conceded", "When was it conceded?", [q("appealType", "Which appeal", .choice([]))])
        case .decisionNoticeSent:
            return form(
                "Decision notice sent to the family", "When was the notice sent?",
                [q("decision", "Notice of the decision", .choice([]), hint: "The family's two months to appeal run from the day the notice was sent")]
            )
        case .caseworkerAssigned:
            return form(
                "Caseworker assigned", "When was the case assigned?", [q("caseworker", "Caseworker's username"), q("team", "Team", optional: true)])
        case .eventCorrected: return form("Correction", "When was the correction made?")
        case .eventRetracted: return form("Retraction", "When was it retracted?")
        case .deadlineBreached: return form("Deadline passed", "When did it pass?")
        case .deadlineReminderSent: return form("Reminder sent", "When was it sent?")
        }
    }

    /// The questions, with the domain's choices filled in for the fields it offers them for.
    func questions(choices: [String: [String]]) -> [Question] {
        questions.map { question in
            var question = question
            if let offered = choices[question.field] {
                switch question.input {
                case .choice: question.input = .choice(offered)
                case .choiceList: question.input = .choiceList(offered)
                default: break
                }
            }
            return question
        }
    }
}
