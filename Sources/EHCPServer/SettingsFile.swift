import EHCPDomain
import EHCPScheduler
import EHCPStore
import Foundation

/// What the settings file configures: the council's local statutory settings, which webhook hosts an
/// operator allows on private addresses, and the pattern case references must match.
public struct ServiceSettings: Sendable {
    public var local = LocalSettings()
    public var webhookAddresses = WebhookAddressPolicy()
    public var caseReferences = CaseReferencePattern()
    /// Roles that must sign in to the web pages with a second factor (an authenticator app's code).
    public var twoFactorRoles: Set<UserRole> = []
    /// How alerts are emailed (the `email` section); nil sends no email.
    public var email: EmailSettings?
    /// How far behind a reporting standby may be before reports read the primary (`replicaMaxLagSeconds`).
    public var replicaMaxLag: Duration = .seconds(30)
    public init() {}
}

/// A council's local settings from a JSON file (deploy/settings.json), merged over the defaults:
///
///     {"draftPlanWeeks": 14, "outcomesMeetingWeeks": 6, "underFiveReviewMonths": 6, "decisionNoticesFrom": "2026-12-01",
///      "reminderDays": {"R-FINAL-20W": [28, 7], "R-REVIEW-12M": [56, 14]},
///      "webhookAllowedHosts": ["hooks.council.internal"], "caseReferencePattern": "^EHC-[0-9]{4,8}$",
///      "twoFactorRoles": ["manager", "admin"], "email": {…}}
///
/// `reminderDays` replaces the offsets of the rules it names and keeps the defaults of the others.
/// `webhookAllowedHosts` lets webhooks reach those hosts even on private or loopback addresses.
/// `email` sets up alerts by email (`EmailSection`). `replicaMaxLagSeconds` (default 30) is how far behind
/// a reporting standby (`ehcp serve --replica-url`) may be before reports read the primary instead.
public enum SettingsFile {
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    public static func load(path: String) throws -> ServiceSettings {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Invalid(description: "cannot read the settings file '\(path)'")
        }
        return try parse(data, source: path)
    }

    public static func parse(_ data: Data, source: String = "settings") throws -> ServiceSettings {
        guard let object = (try? JSONDecoder().decode(JSONValue.self, from: data))?.objectValue else {
            throw Invalid(description: "\(source): not a JSON object")
        }
        var service = ServiceSettings()
        var settings = LocalSettings()
        for (key, value) in object {
            switch (key, value) {
            case ("draftPlanWeeks", .number(let n)) where n >= 1 && n <= 20 && n == n.rounded(): settings.draftPlanWeeks = Int(n)
            case ("outcomesMeetingWeeks", .number(let n)) where n >= 1 && n <= 20 && n == n.rounded(): settings.outcomesMeetingWeeks = Int(n)
            case ("underFiveReviewMonths", .number(let n)) where n >= 1 && n <= 12 && n == n.rounded(): settings.underFiveReviewMonths = Int(n)
            case ("underFiveReviewMonths", .null): settings.underFiveReviewMonths = nil
            case ("decisionNoticesFrom", .string(let text)) where CivilDate(iso: text) != nil: settings.decisionNoticesFrom = CivilDate(iso: text)
            case ("reminderDays", .object(let rules)):
                for (rule, offsets) in rules {
                    guard let id = RuleID(rawValue: rule), id.kind == .duty else {
                        throw Invalid(description: "\(source): reminderDays.\(rule) is not a duty rule ID (see docs/rules.md)")
                    }
                    guard case .array(let values) = offsets else {
                        throw Invalid(description: "\(source): reminderDays.\(rule) must be an array of days")
                    }
                    settings.reminderDays[id] = try values.map { value in
                        guard case .number(let n) = value, n >= 1, n <= 366, n == n.rounded() else {
                            throw Invalid(description: "\(source): reminderDays.\(rule) must hold whole numbers of days from 1 to 366")
                        }
                        return Int(n)
                    }
                }
            case ("webhookAllowedHosts", .array(let hosts)):
                service.webhookAddresses = WebhookAddressPolicy(
                    allowedHosts: Set(
                        try hosts.map { host in
                            guard case .string(let name) = host, !name.isEmpty else {
                                throw Invalid(description: "\(source): webhookAllowedHosts must hold host names, as written in the webhook URLs")
                            }
                            return name
                        }))
            case ("caseReferencePattern", .string(let pattern)):
                guard let compiled = CaseReferencePattern(pattern) else {
                    throw Invalid(description: "\(source): caseReferencePattern '\(pattern)' is not a valid regular expression")
                }
                service.caseReferences = compiled
            case ("twoFactorRoles", .array(let roles)):
                service.twoFactorRoles = Set(
                    try roles.map { role in
                        guard case .string(let name) = role, let known = UserRole(rawValue: name) else {
                            throw Invalid(description: "\(source): twoFactorRoles must hold roles: caseworker, manager, admin, auditor")
                        }
                        return known
                    })
            case ("email", let section): service.email = try EmailSection.parse(section, source: source)
            case ("replicaMaxLagSeconds", .number(let n)) where n >= 0 && n <= 86_400: service.replicaMaxLag = .milliseconds(Int(n * 1000))
            case ("draftPlanWeeks", _), ("outcomesMeetingWeeks", _), ("underFiveReviewMonths", _), ("reminderDays", _), ("webhookAllowedHosts", _),
                ("caseReferencePattern", _), ("twoFactorRoles", _), ("decisionNoticesFrom", _), ("replicaMaxLagSeconds", _):
                throw Invalid(description: "\(source): '\(key)' has a value out of range or of the wrong type")
            default:
                throw Invalid(
                    description:
                        "\(source): unknown setting '\(key)'; known: draftPlanWeeks, outcomesMeetingWeeks, underFiveReviewMonths, decisionNoticesFrom, reminderDays, webhookAllowedHosts, caseReferencePattern, twoFactorRoles, email, replicaMaxLagSeconds"
                )
            }
        }
        service.local = settings
        return service
    }
}
