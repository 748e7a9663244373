import Foundation

/// Converts events to and from their stored form: a type name, a schema version and a JSON `data` object.
public enum EventCodec {
    /// The schema version written with every new event. Older versions are upcast in `decode`.
    public static let currentSchemaVersion = 1

    /// Decodes `data` for the stored type name `type`.
    ///
    /// - Parameter strict: reject fields the type does not define (input from people and systems);
    ///   stored events are read leniently so that an old row never becomes unreadable.
    public static func decode(type: String, data: JSONValue, schemaVersion: Int = currentSchemaVersion, strict: Bool = true)
        throws(CaseError) -> CaseEvent
    {
        guard let kind = EventKind(rawValue: type) else {
            throw CaseError(.unknownEventType, field: "type", value: type, "unknown event type; see events.md for the vocabulary")
        }
        guard let object = data.objectValue else {
            throw CaseError(.invalidField, field: "data", "must be a JSON object")
        }
        let upcast = upcastData(kind: kind, schemaVersion: schemaVersion, object: object)
        let (event, requested) = try decodePayload(kind: kind, object: upcast, recordRequests: strict)
        if strict {
            // A member the type never asked for is not one of its fields.
            for (key, value) in upcast where value != .null && !requested.contains(key) {
                throw CaseError(.invalidField, field: "data.\(key)", "is not a field of \(type)")
            }
        }
        return event
    }

    /// Decodes a stored event from its JSON text (the read path of the store, leniently).
    public static func decodeStored(type: String, json: String, schemaVersion: Int) throws(CaseError) -> CaseEvent {
        let value: JSONValue
        do { value = try JSONValue.parse(json) } catch {
            throw CaseError(.invalidField, field: "data", "stored data is not JSON: \(error)")
        }
        return try decode(type: type, data: value, schemaVersion: schemaVersion, strict: false)
    }

    /// The `data` object of an event (fields absent when nil).
    public static func encode(_ event: CaseEvent) -> [String: JSONValue] {
        // Encoding our own Codable structs cannot fail.
        guard let payload = payload(of: event), let data = try? encoder.encode(payload),
            let value = try? JSONValue.parse(Array(data))
        else { return [:] }
        return value.objectValue ?? [:]
    }

    /// The `data` object as compact JSON text with sorted keys, encoded straight from the payload.
    public static func encodedData(_ event: CaseEvent) -> String {
        guard let payload = payload(of: event), let data = try? encoder.encode(payload) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// The payload struct of an event; nil for the events that carry no data.
    private static func payload(of event: CaseEvent) -> (any Encodable)? {
        switch event {
        case .decidedToAssess, .decidedNotToAssess, .outcomesMeetingHeld, .decidedNotToIssuePlan, .draftPlanIssued,
            .reassessmentRequested, .decidedToReassess, .decidedNotToReassess, .transferNoticeSent,
            .mediationRequested, .mediationHeld, .mediationCertificateIssued:
            nil
        case .requestReceived(let p): p
        case .becameResponsible(let p): p
        case .adviceRequested(let p): p
        case .adviceReceived(let p): p
        case .settingConsulted(let p): p
        case .consultationResponseReceived(let p): p
        case .finalPlanIssued(let p), .amendedPlanIssued(let p): p
        case .requestWithdrawn(let p): p
        case .exceptionRecorded(let p): p
        case .exceptionWithdrawn(let p), .familyToldOfException(let p): p
        case .reviewInvitationsSent(let p), .reviewMeetingHeld(let p), .reviewReportReceived(let p): p
        case .reviewDecisionMade(let p): p
        case .amendmentNoticeIssued(let p), .decidedNotToAmend(let p): p
        case .phaseTransferDue(let p): p
        case .planCeased(let p): p
        case .transferredIn(let p): p
        case .moveNotified(let p): p
        case .transferredOut(let p): p
        case .appealLodged(let p), .appealConceded(let p): p
        case .tribunalOrderMade(let p): p
        case .decisionNoticeSent(let p): p
        case .caseworkerAssigned(let p): p
        case .eventCorrected(let p): p
        case .eventRetracted(let p): p
        case .deadlineBreached(let p): p
        case .deadlineReminderSent(let p): p
        }
    }

    /// Where an old schema version of a type would be rewritten to the current one. Every type is at
    /// version 1 today, so this is the identity; a change to a payload adds a case here.
    static func upcastData(kind: EventKind, schemaVersion: Int, object: [String: JSONValue]) -> [String: JSONValue] {
        object
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    /// The event of `kind` from its `data` object, and the members its payload type asked for.
    private static func decodePayload(kind: EventKind, object: [String: JSONValue], recordRequests: Bool) throws(CaseError) -> (
        CaseEvent, Set<String>
    ) {
        if !recordRequests, let event = storedScheduleEvent(kind: kind, object: object) { return (event, []) }
        var requested: Set<String> = []
        func payload<T: Decodable>(_: T.Type) throws(CaseError) -> T {
            do {
                let decoded = try JSONValueDecoder.decode(T.self, from: .object(object), recordRequests: recordRequests)
                requested = decoded.requested
                return decoded.value
            } catch let error as DecodingError {
                throw fieldError(error, object: object, type: kind.rawValue)
            } catch {
                throw CaseError(.invalidField, field: "data", "could not be read: \(error)")
            }
        }
        let event: CaseEvent =
            switch kind {
            case .requestReceived: .requestReceived(try payload(RequestReceived.self))
            case .becameResponsible: .becameResponsible(try payload(BecameResponsible.self))
            case .decidedToAssess: .decidedToAssess
            case .decidedNotToAssess: .decidedNotToAssess
            case .adviceRequested: .adviceRequested(try payload(AdviceRequested.self))
            case .adviceReceived: .adviceReceived(try payload(AdviceReference.self))
            case .outcomesMeetingHeld: .outcomesMeetingHeld
            case .decidedNotToIssuePlan: .decidedNotToIssuePlan
            case .draftPlanIssued: .draftPlanIssued
            case .settingConsulted: .settingConsulted(try payload(SettingConsulted.self))
            case .consultationResponseReceived: .consultationResponseReceived(try payload(ConsultationResponseReceived.self))
            case .finalPlanIssued: .finalPlanIssued(try payload(PlanIssued.self))
            case .requestWithdrawn: .requestWithdrawn(try payload(Reason.self))
            case .exceptionRecorded: .exceptionRecorded(try payload(ExceptionRecorded.self))
            case .exceptionWithdrawn: .exceptionWithdrawn(try payload(ExceptionReference.self))
            case .familyToldOfException: .familyToldOfException(try payload(ExceptionReference.self))
            case .reviewInvitationsSent: .reviewInvitationsSent(try payload(ReviewReference.self))
            case .reviewMeetingHeld: .reviewMeetingHeld(try payload(ReviewReference.self))
            case .reviewReportReceived: .reviewReportReceived(try payload(ReviewReference.self))
            case .reviewDecisionMade: .reviewDecisionMade(try payload(ReviewDecisionMade.self))
            case .amendmentNoticeIssued: .amendmentNoticeIssued(try payload(OptionalReviewReference.self))
            case .decidedNotToAmend: .decidedNotToAmend(try payload(OptionalReviewReference.self))
            case .amendedPlanIssued: .amendedPlanIssued(try payload(PlanIssued.self))
            case .phaseTransferDue: .phaseTransferDue(try payload(PhaseTransferDue.self))
            case .reassessmentRequested: .reassessmentRequested
            case .decidedToReassess: .decidedToReassess
            case .decidedNotToReassess: .decidedNotToReassess
            case .planCeased: .planCeased(try payload(PlanCeased.self))
            case .transferredIn: .transferredIn(try payload(TransferredIn.self))
            case .transferNoticeSent: .transferNoticeSent
            case .moveNotified: .moveNotified(try payload(MoveNotified.self))
            case .transferredOut: .transferredOut(try payload(TransferredOut.self))
            case .mediationRequested: .mediationRequested
            case .mediationHeld: .mediationHeld
            case .mediationCertificateIssued: .mediationCertificateIssued
            case .appealLodged: .appealLodged(try payload(AppealReference.self))
            case .tribunalOrderMade: .tribunalOrderMade(try payload(TribunalOrderMade.self))
            case .appealConceded: .appealConceded(try payload(AppealReference.self))
            case .decisionNoticeSent: .decisionNoticeSent(try payload(DecisionNoticeSent.self))
            case .caseworkerAssigned: .caseworkerAssigned(try payload(CaseworkerAssigned.self))
            case .eventCorrected: .eventCorrected(try payload(EventCorrected.self))
            case .eventRetracted: .eventRetracted(try payload(EventRetracted.self))
            case .deadlineBreached: .deadlineBreached(try payload(DeadlineBreached.self))
            case .deadlineReminderSent: .deadlineReminderSent(try payload(DeadlineReminderSent.self))
            }
        return (event, requested)
    }

    /// The scheduler's reminders and breaches, read from a stored object without `Decodable`: they are a
    /// quarter of a typical history, and each names its own due date, so few are decoded payloads the
    /// store already holds (`StoredPayloads`). nil for any shape this does not expect, which the
    /// `Decodable` path then reads or refuses by name, exactly as before.
    private static func storedScheduleEvent(kind: EventKind, object: [String: JSONValue]) -> CaseEvent? {
        guard kind == .deadlineBreached || kind == .deadlineReminderSent,
            let rule = object["rule"]?.stringValue.flatMap(RuleID.init(rawValue:)),
            let dueOn = object["dueOn"]?.stringValue.flatMap(CivilDate.init(iso:))
        else { return nil }
        let key: String?
        switch object["key"] {
        case nil, .null?: key = nil
        case .string(let text)?: key = text
        default: return nil
        }
        guard kind == .deadlineReminderSent else { return .deadlineBreached(DeadlineBreached(rule: rule, dueOn: dueOn, key: key)) }
        guard case .number(let days)? = object["daysBefore"], days == days.rounded(), abs(days) < 9.0e15 else { return nil }
        return .deadlineReminderSent(DeadlineReminderSent(rule: rule, dueOn: dueOn, daysBefore: Int(days), key: key))
    }

    /// Turns a DecodingError into an error that names the field and the offending value.
    private static func fieldError(_ error: DecodingError, object: [String: JSONValue], type: String) -> CaseError {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        func value(at codingPath: [any CodingKey]) -> String? {
            var current = JSONValue.object(object)
            for key in codingPath {
                switch (current, key.intValue) {
                case (.object(let dict), _): current = dict[key.stringValue] ?? .null
                case (.array(let items), let index?) where items.indices.contains(index): current = items[index]
                default: return nil
                }
            }
            switch current {
            case .string, .number, .bool: return current.compactDescription
            case .null, .array, .object: return nil
            }
        }
        switch error {
        case .keyNotFound(let key, let context):
            return CaseError(.invalidField, field: "data" + path(context.codingPath + [key]), "is required by \(type)")
        case .valueNotFound(_, let context):
            return CaseError(.invalidField, field: "data" + path(context.codingPath), "is required by \(type)")
        case .typeMismatch(let expected, let context):
            return CaseError(
                .invalidField, field: "data" + path(context.codingPath), value: value(at: context.codingPath),
                "must be \(describe(expected))")
        case .dataCorrupted(let context):
            return CaseError(
                .invalidField, field: "data" + path(context.codingPath), value: value(at: context.codingPath),
                allowedValuesMessage(context) ?? "is not valid: \(context.debugDescription)")
        @unknown default:
            return CaseError(.invalidField, field: "data", "could not be read: \(error)")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "a whole number"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        default: "a \(type)"
        }
    }

    private static func allowedValuesMessage(_ context: DecodingError.Context) -> String? {
        let text = context.debugDescription
        guard text.contains("Cannot initialize") else { return text.contains("YYYY-MM-DD") ? text : nil }
        let candidates: [(String, [String])] = [
            ("RequestSource", RequestSource.allCases.map(\.rawValue)),
            ("AdviceType", AdviceType.allCases.map(\.rawValue)),
            ("ConsultationResponse", ConsultationResponse.allCases.map(\.rawValue)),
            ("ExceptionGround", ExceptionGround.allCases.map(\.rawValue)),
            ("RuleID", RuleID.allCases.map(\.rawValue)),
            ("ReviewDecision", ReviewDecision.allCases.map(\.rawValue)),
            ("PhaseTransferKind", PhaseTransferKind.allCases.map(\.rawValue)),
            ("AppealType", AppealType.allCases.map(\.rawValue)),
            ("TribunalOrder", TribunalOrder.allCases.map(\.rawValue)),
        ]
        for (name, values) in candidates where text.contains(name) {
            return "must be one of: " + values.joined(separator: ", ")
        }
        return nil
    }
}
