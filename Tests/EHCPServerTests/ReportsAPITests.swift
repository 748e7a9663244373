import EHCPDomain
import Foundation
import Testing

@Suite("API reports: timeliness, traces, breaches, caseload, SEN2, as JSON and CSV")
struct ReportsAPITests {
    @Test("managers and auditors read reports in JSON or CSV; caseworkers may not; bad parameters name themselves")
    func reports() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase(on: "2025-01-06", reference: "EHC-R-1")
            _ = try await client.log(caseId, "DecidedToAssess", on: "2025-02-10")
            _ = try await client.log(caseId, "FinalPlanIssued", on: "2025-04-28")
            let timeliness = try await client.send(
                .get, "/v1/reports/timeliness?measure=K-20W&from=2025-01-01&to=2025-04-30&groupBy=month", as: "Meg")
            #expect(timeliness.status == 200)
            #expect(timeliness["total"]?.objectValue?["numerator"]?.int == 1 && timeliness["total"]?.objectValue?["denominator"]?.int == 1)
            let csv = try await client.send(
                .get, "/v1/reports/timeliness?measure=K-DECIDE-6W&from=2025-01-01&to=2025-04-30", as: "Aud", headers: ["Accept": "text/csv"])
            #expect(csv.headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(csv.text.hasPrefix("group,numerator,denominator,percent,target,averageWeeks,over52Weeks\r\n2025-02,1,1,100.0"))
            let cases = try await client.send(
                .get, "/v1/reports/timeliness/cases?measure=K-20W&from=2025-01-01&to=2025-04-30&group=2025-04", as: "Meg")
            #expect(cases.array("cases").map { $0["reference"]?.string } == ["EHC-R-1"])
            #expect(try await client.send(.get, "/v1/reports/timeliness", as: "Ann").status == 403)
            #expect(try await client.send(.get, "/v1/reports/timeliness?measure=K-99", as: "Meg").string("field") == "measure")
            #expect(try await client.send(.get, "/v1/reports/timeliness?from=2025-13-01", as: "Meg").string("field") == "from")
            #expect(try await client.send(.get, "/v1/reports/timeliness?from=2025-05-01&to=2025-01-01", as: "Meg").string("field") == "to")

            let other = try await client.openCase(on: "2025-03-03", reference: "EHC-R-2")  // decision due 14 April: overdue on 1 May
            let breaches = try await client.send(.get, "/v1/reports/breaches?rule=R-DECIDE-6W", as: "Meg")
            #expect(breaches.array("rows").map { $0["reference"]?.string } == ["EHC-R-2"])
            #expect(breaches.array("rows").first?["daysOverdue"]?.int == 17)
            #expect(breaches["totals"]?.objectValue?["ageing"]?.objectValue?["2-4"]?.int == 1)
            let breachCSV = try await client.send(.get, "/v1/reports/breaches?rule=R-DECIDE-6W", as: "Meg", headers: ["Accept": "text/csv"])
            #expect(breachCSV.text.contains("EHC-R-2,R-DECIDE-6W,,2025-04-14,17,breached"))
            #expect(try await client.send(.get, "/v1/reports/breaches?rule=R-NONSENSE", as: "Meg").string("field") == "rule")
            _ = other

            let caseload = try await client.send(.get, "/v1/reports/caseload?from=2025-01-01&to=2025-04-30", as: "Meg")
            #expect(caseload["requestsReceived"]?.int == 2 && caseload["plansIssued"]?.int == 1 && caseload["activePlans"]?.int == 1)

            let sen2 = try await client.send(.get, "/v1/exports/sen2?year=2025&module=requests", as: "Ada")
            #expect(sen2.text.hasPrefix("persontableid,requesttableid,receiveddate,rquestsource"))
            #expect(sen2.text.components(separatedBy: "\r\n").filter { !$0.isEmpty }.count == 3)
            #expect(try await client.send(.get, "/v1/exports/sen2?year=2025", as: "Ada").array("modules").count == 5)
            #expect(try await client.send(.get, "/v1/exports/sen2", as: "Ada").string("field") == "year")
            #expect(try await client.send(.get, "/v1/exports/sen2?year=2025&module=gossip", as: "Ada").string("field") == "module")
            #expect(try await client.send(.get, "/v1/exports/sen2?year=2025", as: "Ann").status == 403)
        }
    }
}
