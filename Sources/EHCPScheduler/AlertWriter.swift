import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Writes the alerts for one breach or reminder: a feed row for the case's caseworker and for each
/// manager of their team, and a webhook delivery per alert per matching subscription. Runs inside the
/// transaction that records the event, so alerts exist exactly when the event does.
struct AlertWriter {
    let council: UUID
    private var managersByTeam: [String: [String]] = [:]
    private var subscriptions: [(id: UUID, kinds: [String])]?

    init(council: UUID) { self.council = council }

    /// Returns how many feed alerts it wrote.
    mutating func write(
        _ event: CaseEvent, version: Int, caseId: UUID, reference: String, facts: CaseFacts, today: CivilDate, on connection: PostgresConnection
    ) throws -> Int {
        let (kind, rule, key, dueOn, daysBefore): (String, RuleID, String?, CivilDate, Int?)
        switch event {
        case .deadlineBreached(let breach): (kind, rule, key, dueOn, daysBefore) = ("breach", breach.rule, breach.key, breach.dueOn, nil)
        case .deadlineReminderSent(let reminder): (kind, rule, key, dueOn, daysBefore) = ("reminder", reminder.rule, reminder.key, reminder.dueOn, reminder.daysBefore)
        default: return 0
        }
        var recipients: [(name: String, role: String)] = facts.caseworker.map { [($0, "caseworker")] } ?? []
        if let team = facts.team {
            if managersByTeam[team] == nil {
                managersByTeam[team] = try connection.query(
                    "SELECT name FROM users WHERE role = 'manager' AND team = $1 AND disabled_at IS NULL ORDER BY name", [team]
                ).rows.map { try $0.decode(String.self, at: 0) }
            }
            recipients += managersByTeam[team]!.map { ($0, "manager") }
        }
        guard !recipients.isEmpty else { return 0 }
        let ids = try connection.query(
            """
            INSERT INTO alerts (council_id, case_id, event_version, kind, reference, rule, rule_key, due_on, days_before, recipient, recipient_role)
            SELECT $1, $2, $3, $4, $5, $6, $7, $8::date, $9, r.name, r.role FROM unnest($10::text[], $11::text[]) AS r(name, role)
            ON CONFLICT (case_id, event_version, recipient) DO NOTHING
            RETURNING alert_id, recipient, recipient_role
            """,
            [council, caseId, version, kind, reference, rule.rawValue, key, dueOn.description, daysBefore,
             PostgresArray(recipients.map(\.name)), PostgresArray(recipients.map(\.role))]
        ).rows.map { (id: try $0.decode(Int64.self, at: 0), name: try $0.decode(String.self, at: 1), role: try $0.decode(String.self, at: 2)) }
        if subscriptions == nil {
            subscriptions = try connection.query(
                "SELECT subscription_id, array_to_string(kinds, ',') FROM webhook_subscriptions WHERE disabled_at IS NULL"
            ).rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1).split(separator: ",").map(String.init)) }
        }
        var deliveries: [(UUID, UUID, Int64, String)] = []
        for subscription in subscriptions! where subscription.kinds.isEmpty || subscription.kinds.contains(kind) {
            for alert in ids {
                let deliveryId = UUID()
                let payload = WebhookPayload(
                    deliveryId: deliveryId.uuidString.lowercased(), alertId: alert.id, kind: kind, caseId: caseId.uuidString.lowercased(), reference: reference, rule: rule.rawValue, key: key,
                    dueOn: dueOn, daysOverdue: kind == "breach" ? dueOn.days(until: today) : nil, daysBefore: daysBefore,
                    recipient: alert.name, recipientRole: alert.role, link: "/v1/cases/\(caseId.uuidString.lowercased())")
                deliveries.append((deliveryId, subscription.id, alert.id, payload.json))
            }
        }
        if !deliveries.isEmpty {
            try connection.query(
                """
                INSERT INTO outbox (delivery_id, council_id, subscription_id, alert_id, payload)
                SELECT d.id, $1, d.subscription, d.alert, d.payload FROM unnest($2::uuid[], $3::uuid[], $4::bigint[], $5::text[]) AS d(id, subscription, alert, payload)
                """,
                [council, PostgresArray(deliveries.map(\.0.postgresText)), PostgresArray(deliveries.map(\.1.postgresText)),
                 PostgresArray(deliveries.map { String($0.2) }), PostgresArray(deliveries.map(\.3))])
        }
        return ids.count
    }
}

/// The JSON body of a webhook delivery (also what the signature covers).
struct WebhookPayload: Encodable {
    var deliveryId: String
    var alertId: Int64
    var kind: String
    var caseId: String
    var reference: String
    var rule: String
    var key: String?
    var dueOn: CivilDate
    var daysOverdue: Int?
    var daysBefore: Int?
    var recipient: String
    var recipientRole: String
    var link: String

    var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }
}
