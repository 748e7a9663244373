import EHCPDomain
import EHCPScheduler
import EHCPServer
import Foundation
import SMTP
import Testing

@Suite("Local settings from a file")
struct SettingsFileTests {
    @Test("named rules' reminder offsets replace the defaults; other rules keep theirs")
    func merges() throws {
        let settings = try SettingsFile.parse(Data(#"{"draftPlanWeeks": 16, "reminderDays": {"R-FINAL-20W": [42, 14, 7]}}"#.utf8)).local
        #expect(settings.draftPlanWeeks == 16)
        #expect(settings.reminderDays[.final20W] == [42, 14, 7])
        #expect(settings.reminderDays[.review12M] == [56, 14])
        #expect(
            try SettingsFile.parse(Data(#"{"decisionNoticesFrom": "2026-12-01"}"#.utf8)).local.decisionNoticesFrom == CivilDate(iso: "2026-12-01"))
    }

    @Test("webhook hosts allowed on private addresses, and a council's own case reference pattern")
    func securitySettings() throws {
        let settings = try SettingsFile.parse(
            Data(#"{"webhookAllowedHosts": ["Hooks.Council.Internal"], "caseReferencePattern": "^EHC-[0-9]{4}$"}"#.utf8))
        #expect(settings.webhookAddresses.allowedHosts == ["hooks.council.internal"])
        #expect(settings.caseReferences.accepts("EHC-1234"))
        #expect(!settings.caseReferences.accepts("EHC-12345"))
        #expect(!settings.caseReferences.accepts("Jo Bloggs"))
    }

    @Test(
        "unknown settings, unknown or non-duty rules and out-of-range values are refused by name",
        arguments: [
            (#"{"draftPlanWeek": 14}"#, "draftPlanWeek"), (#"{"reminderDays": {"R-NOPE": [7]}}"#, "R-NOPE"),
            (#"{"reminderDays": {"R-DRAFT-15D": [7]}}"#, "R-DRAFT-15D"), (#"{"reminderDays": {"R-FINAL-20W": [0]}}"#, "R-FINAL-20W"),
            (#"{"outcomesMeetingWeeks": 99}"#, "outcomesMeetingWeeks"), ("[]", "not a JSON object"),
            (#"{"webhookAllowedHosts": "localhost"}"#, "webhookAllowedHosts"), (#"{"caseReferencePattern": "(["}"#, "caseReferencePattern"),
            (#"{"decisionNoticesFrom": "1 December"}"#, "decisionNoticesFrom"),
        ])
    func refuses(json: String, named: String) {
        #expect { try SettingsFile.parse(Data(json.utf8)) } throws: { "\($0)".contains(named) }
    }

    @Test("email by SMTP or by GOV.UK Notify: secrets come from files, the Notify key splits into its service id and secret")
    func email() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ehcp-settings-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let password = directory.appendingPathComponent("smtp-password").path
        try "relay-secret\n".write(toFile: password, atomically: true, encoding: .utf8)
        let smtp = try SettingsFile.parse(
            Data(
                #"""
                {"email": {"transport": "smtp", "from": "EHCP alerts <ehcp@council.example>", "digestTime": "07:30",
                           "smtp": {"host": "relay.council.example", "username": "ehcp", "passwordFile": "\#(password)"}}}
                """#.utf8))
        let settings = try #require(smtp.email)
        #expect(settings.digestAt == 7 * 60 + 30 && settings.from == "EHCP alerts <ehcp@council.example>")
        guard case .smtp(let configuration) = settings.transport else {
            Issue.record("not SMTP")
            return
        }
        #expect(configuration.port == 587 && configuration.security == .startTLS && configuration.password == "relay-secret")

        let key = directory.appendingPathComponent("notify-key").path
        try "live-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0".write(toFile: key, atomically: true, encoding: .utf8)
        let templates =
            #"{"breach": "f33517ff-2a88-4f6e-b855-c550268ce08a", "reminder": "f33517ff-2a88-4f6e-b855-c550268ce08b", "digest": "f33517ff-2a88-4f6e-b855-c550268ce08c"}"#
        let notify = try SettingsFile.parse(
            Data(#"{"email": {"transport": "notify", "notify": {"apiKeyFile": "\#(key)", "templates": \#(templates)}}}"#.utf8))
        guard case .notify(let base, let parsed, let ids, _)? = notify.email?.transport else {
            Issue.record("not Notify")
            return
        }
        #expect(base == "https://api.notifications.service.gov.uk" && parsed.serviceId == "26785a09-ab16-4eb0-8407-a37497a57506")
        #expect(ids["digest"] == "f33517ff-2a88-4f6e-b855-c550268ce08c")
    }

    @Test(
        "email settings are refused by name: a transport, a time, an unencrypted relay off this machine, a password without TLS, a missing key file",
        arguments: [
            (#"{"email": {"transport": "pigeon"}}"#, "email.transport"),
            (#"{"email": {"transport": "smtp", "from": "a@b.example", "digestTime": "7am", "smtp": {"host": "x"}}}"#, "email.digestTime"),
            (
                #"{"email": {"transport": "smtp", "from": "a@b.example", "smtp": {"host": "relay.example", "security": "none"}}}"#,
                "email.smtp.security"
            ),
            (#"{"email": {"transport": "smtp", "from": "a@b.example", "smtp": {"host": "x", "port": 70000}}}"#, "email.smtp.port"),
            (#"{"email": {"transport": "smtp", "smtp": {"host": "x"}}}"#, "email.from"),
            (#"{"email": {"transport": "smtp", "from": "a@b.example", "smtp": {"host": "x", "colour": "red"}}}"#, "email.smtp.colour"),
            (#"{"email": {"transport": "notify", "notify": {"apiKeyFile": "/nonexistent/key"}}}"#, "email.notify.apiKeyFile"),
        ])
    func refusesEmail(json: String, named: String) {
        #expect { try SettingsFile.parse(Data(json.utf8)) } throws: { "\($0)".contains(named) }
    }
}
