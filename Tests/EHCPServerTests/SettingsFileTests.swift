import EHCPDomain
import EHCPServer
import Foundation
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
}
