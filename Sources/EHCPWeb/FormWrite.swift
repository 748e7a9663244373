import Crypto
import EHCPAPI
import EHCPDomain
import EHCPStore
import Foundation

/// The last two steps of every form that records an event on a case. `check` runs the decision the write
/// will run (`CaseWork.check`) and writes nothing; `record` writes through `CaseWork.record`, pinned to
/// the case version the check page was shown with and keyed by its write key, so that pressing
/// "Record" twice records once.
struct FormWrite: Sendable {
    let deps: APIDependencies

    enum Outcome {
        /// Accepted on checking: show "check your answers".
        case checked
        /// Written: the case's new version.
        case recorded(Int)
        /// Refused by a rule: nothing was written.
        case refused(CaseError)
        /// Someone else changed the case since the form was shown.
        case caseChanged
    }

    /// Checks or records `event` for `user` on the case, as the form's `step` asks.
    func run(_ event: CaseEvent, on occurredOn: CivilDate, caseId: UUID, user: AuthenticatedUser, answers: WebForm, shownVersion: Int)
        async throws -> Outcome
    {
        try CaseRequests.authorise(event, user: user)
        guard let authority = Roles.authority(user.role) else {
            throw Problem(.forbidden, title: "Forbidden", detail: "your role records nothing", code: "forbidden")
        }
        let version = answers["version"].flatMap { Int($0) } ?? shownVersion
        let command = LogEvent(event, on: occurredOn, by: user.name, today: deps.today(), authority: authority)
        do {
            guard answers["step"] == "record" else {
                try await deps.cases.check(CaseCommand(council: user.councilId, caseId: caseId, command: command, expectedVersion: version))
                return .checked
            }
            let key = answers["writeKey"] ?? ""
            guard (32...64).contains(key.utf8.count) else { throw Problem.invalid(field: "writeKey", value: nil, "the form is incomplete") }
            var hasher = SHA256()
            hasher.update(data: Array("\(user.userId) \(caseId) \(event.typeName) \(EventCodec.encodedData(event)) \(occurredOn)".utf8))
            let outcome = try await deps.cases.record(
                CaseCommand(
                    council: user.councilId, caseId: caseId, command: command, expectedVersion: version,
                    idempotency: Idempotency(key: "web-" + key, requestHash: hasher.finalize().map { String(format: "%02x", $0) }.joined())))
            return .recorded(outcome.append.lastVersion)
        } catch let error as CaseCommandError {
            switch error {
            case .rejected(let refusal): return .refused(refusal)
            case .versionMismatch: return .caseChanged
            case .caseNotFound: throw Problem.notFound("caseId", caseId.uuidString.lowercased())
            }
        }
    }

    /// What the check page carries back: every answer, the version it was shown with and a new write key.
    static func hidden(_ answers: WebForm, version: Int) -> [Hidden] {
        answers.fields.filter { !["formToken", "step", "version", "writeKey"].contains($0.key) }.sorted { $0.key < $1.key }.map {
            Hidden(name: $0.key, value: $0.value)
        } + [Hidden(name: "version", value: String(version)), Hidden(name: "writeKey", value: WebForm.randomToken())]
    }

    static let caseChanged = "Someone else recorded something on this case while you were answering. Check the case, then your answers, and try again"
}

/// "Check your answers" before a write (`record-check`).
struct CheckView {
    var layout: Layout
    var reference: String
    var action: String
    var title: String
    var answers: [Answer]
    var hidden: [Hidden]
}
