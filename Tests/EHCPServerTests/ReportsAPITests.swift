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
            #expect(
                csv.text.hasPrefix("group,numerator,denominator,percent,target,averageWeeks,over52Weeks,england\r\n2025-02,1,1,100.0,,,,87.4\r\n"))
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

            let dfe = try await client.send(.get, "/v1/reports/dfe?year=2025", as: "Aud")
            #expect(dfe["requests"]?.objectValue?["request_outcome_six_weeks"]?.int == 1)
            #expect(dfe["england"]?.objectValue?["requestOutcomeSixWeeksPercent"] == .number(87.4))
            let table = try await client.send(.get, "/v1/reports/dfe?year=2025&table=requests", as: "Meg")
            #expect(
                table.text == "time_period,request_outcome_six_weeks,request_outcome_over_6_weeks,request_outcome_six_weeks_pc\r\n2025,1,0,100.0\r\n")
            #expect(try await client.send(.get, "/v1/reports/dfe", as: "Meg").string("field") == "year")
            #expect(try await client.send(.get, "/v1/reports/dfe?year=2025&table=gossip", as: "Meg").string("field") == "table")
            #expect(try await client.send(.get, "/v1/reports/dfe?year=2025", as: "Ann").status == 403)

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

    @Test("a clock the case moved past while overdue is missed: off the work tray, the alerts and the open list, counted in a section of its own")
    func missed() async throws {
        let harness = try APIHarness()
        let owner = try harness.database.connect()
        defer { owner.close() }
        try await harness.run { client in
            // Both decisions were due on 14 April; one request is withdrawn on 20 April, six days late.
            let withdrawn = try await client.openCase(on: "2025-03-03", reference: "EHC-M-1")
            let live = try await client.openCase(on: "2025-03-03", reference: "EHC-M-2")
            for id in [withdrawn, live] {
                _ = try await client.log(id, "CaseworkerAssigned", on: "2025-03-04", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg")
            }
            let caseIds = try owner.query("SELECT case_id FROM case_summary WHERE reference = 'EHC-M-1'").first!.decode(UUID.self, at: 0)
            try owner.query(
                """
                INSERT INTO alerts (council_id, case_id, event_version, kind, reference, rule, due_on, recipient, recipient_role)
                SELECT council_id, case_id, 99, 'breach', reference, 'R-DECIDE-6W', '2025-04-14', 'Ann', 'caseworker' FROM case_summary
                WHERE reference IN ('EHC-M-1', 'EHC-M-2')
                """)
            #expect(try await client.send(.get, "/v1/alerts", as: "Ann").array("alerts").count == 2)
            #expect(try await client.log(withdrawn, "RequestWithdrawn", on: "2025-04-20", data: #"{"reason":"moved away"}"#).status == 201)

            let decision = try await client.send(.get, "/v1/cases/\(withdrawn)", as: "Ann").array("deadlines").first {
                $0["rule"]?.string == "R-DECIDE-6W"
            }
            #expect(decision?["status"]?.string == "missed")
            #expect(decision?["missedOn"]?.string == "2025-04-20" && decision?["daysOverdue"]?.int == 6)
            #expect(decision?["actionable"] == .bool(false))
            let stillLive = try await client.send(.get, "/v1/cases/\(live)", as: "Ann").array("deadlines").first {
                $0["rule"]?.string == "R-DECIDE-6W"
            }
            #expect(stillLive?["status"]?.string == "breached" && stillLive?["actionable"] == .bool(true))

            let tray = try await client.send(.get, "/v1/work-tray?days=14", as: "Ann")
            #expect(tray.array("breached").compactMap { $0["reference"]?.string } == ["EHC-M-2"])
            #expect(try await client.send(.get, "/v1/alerts", as: "Ann").array("alerts").map { $0["reference"]?.string } == ["EHC-M-2"])

            let report = try await client.send(.get, "/v1/reports/breaches?rule=R-DECIDE-6W", as: "Meg")
            #expect(report.array("rows").map { $0["reference"]?.string } == ["EHC-M-2"])
            let missed = report["missed"]?.objectValue
            #expect(missed?["total"]?.int == 1)
            #expect(missed?["byRule"]?.objectValue?["R-DECIDE-6W"]?.int == 1 && missed?["byCaseworker"]?.objectValue?["Ann"]?.int == 1)
            let row = missed?["rows"].flatMap { if case .array(let rows) = $0 { rows.first?.objectValue } else { nil } }
            #expect(row?["reference"]?.string == "EHC-M-1" && row?["missedOn"]?.string == "2025-04-20" && row?["daysOverdue"]?.int == 6)
            #expect(row?["caseId"]?.string?.lowercased() == caseIds.uuidString.lowercased())

            // As of 18 April the request was not yet withdrawn: both decisions were overdue then, and none missed.
            let before = try await client.send(.get, "/v1/reports/breaches?rule=R-DECIDE-6W&asOf=2025-04-18", as: "Meg")
            #expect(before.array("rows").compactMap { $0["reference"]?.string }.sorted() == ["EHC-M-1", "EHC-M-2"])
            #expect(before["missed"]?.objectValue?["total"]?.int == 0)
            // The missed section's own period.
            let later = try await client.send(.get, "/v1/reports/breaches?missedFrom=2025-04-21", as: "Meg")
            #expect(later["missed"]?.objectValue?["total"]?.int == 0)
            let wrong = try await client.send(.get, "/v1/reports/breaches?missedFrom=2025-06-01", as: "Meg")
            #expect(wrong.status == 400 && wrong.string("field") == "missedFrom")
        }
    }

    @Test("tribunal orders and conceded appeals: each deadline with its status and days late, totals by type and year, and the case's evidence pack")
    func tribunalOrders() async throws {
        try await APIHarness().run { client in
            // Refused on 20 March 2025; the tribunal ordered an assessment on 1 April: tell the family within 2 weeks
            // (15 April), decide within 10 (10 June), plan within 14 (8 July). The council told the family on 22 April.
            let ordered = try await client.openCase(on: "2025-02-10", reference: "EHC-T-1")
            for (type, day, data) in [
                ("DecidedNotToAssess", "2025-03-20", "{}"), ("AppealLodged", "2025-03-24", #"{"appealType":"refusalToAssess"}"#),
                ("TribunalOrderMade", "2025-04-01", #"{"order":"assess"}"#), ("DecidedToAssess", "2025-04-22", "{}"),
            ] {
                #expect(try await client.log(ordered, type, on: day, data: data).status == 201)
            }
            // A conceded appeal against the named school: the new school named within 2 weeks, by 21 April.
            let conceded = try await client.openCase(on: "2024-06-03", reference: "EHC-T-2")
            for (type, day, data) in [
                ("DecidedToAssess", "2024-07-01", "{}"), ("DraftPlanIssued", "2024-09-02", "{}"), ("FinalPlanIssued", "2024-10-14", "{}"),
                ("AppealLodged", "2024-11-04", #"{"appealType":"placement"}"#), ("AppealConceded", "2025-04-07", #"{"appealType":"placement"}"#),
                ("AmendedPlanIssued", "2025-04-17", "{}"),
            ] {
                #expect(try await client.log(conceded, type, on: day, data: data).status == 201)
            }
            let report = try await client.send(.get, "/v1/reports/tribunal-orders?from=2025-01-01", as: "Meg")
            let rows = report.array("rows").map {
                "\($0["reference"]?.string ?? "") \($0["rule"]?.string ?? "") \($0["status"]?.string ?? "") \($0["daysLate"]?.int ?? -1)"
            }
            #expect(
                rows == [
                    "EHC-T-1 R-ORDER-ASSESS-NOTIFY-2W metLate 7", "EHC-T-1 R-ORDER-ASSESS-NOPLAN-10W open 0",
                    "EHC-T-1 R-ORDER-ASSESS-FINAL-14W open 0",
                    "EHC-T-2 R-UNOPPOSED-PLACEMENT-2W met 0",
                ])
            let totals = report.array("totals").map {
                "\($0["source"]?.string ?? "") \($0["type"]?.string ?? "") \($0["year"]?.int ?? 0) \($0["deadlines"]?.int ?? 0)"
            }
            #expect(totals == ["conceded placement 2025 1", "order assess 2025 3"])
            let csv = try await client.send(.get, "/v1/reports/tribunal-orders?from=2025-01-01", as: "Aud", headers: ["Accept": "text/csv"])
            #expect(
                csv.text.hasPrefix(
                    "reference,source,type,orderedOn,rule,dueOn,status,metOn,daysLate,caseId\r\nEHC-T-1,order,assess,2025-04-01,R-ORDER-ASSESS-NOTIFY-2W,2025-04-15,metLate,2025-04-22,7,"
                ))
            #expect(try await client.send(.get, "/v1/reports/tribunal-orders?from=2025-05-01&to=2025-01-01", as: "Meg").string("field") == "to")
            // As of 20 April the family had not yet been told: that deadline stood 5 days overdue, unmet.
            let then = try await client.send(.get, "/v1/reports/tribunal-orders?from=2025-01-01&asOf=2025-04-20", as: "Meg").array("rows")
            let notify = then.first { $0["rule"]?.string == "R-ORDER-ASSESS-NOTIFY-2W" }
            #expect(notify?["status"]?.string == "breached" && notify?["daysLate"]?.int == 5 && notify?["metOn"] == nil)
            #expect(then.first { $0["rule"]?.string == "R-UNOPPOSED-PLACEMENT-2W" }?["status"]?.string == "met")

            // A correction's reason is free text people wrote: it stays out of a pack sent to third parties.
            let corrected = try await client.send(
                .post, "/v1/cases/\(ordered)/events/5/correction", as: "Ann",
                json: #"{"occurredOn":"2025-04-22","reason":"the family bereavement delayed the letter"}"#)
            #expect(corrected.status == 201)
            let pack = try await client.send(.get, "/v1/cases/\(ordered)/tribunal-evidence", as: "Ann")
            let order = try #require(pack.array("orders").first)
            #expect(order["type"]?.string == "assess" && order["occurredOn"]?.string == "2025-04-01")
            let steps = pack.array("steps").map { "\($0["occurredOn"]?.string ?? "") \($0["type"]?.string ?? "")" }
            #expect(steps == ["2025-04-01 TribunalOrderMade", "2025-04-22 DecidedToAssess", "2025-05-01 EventCorrected"])
            #expect(pack.array("steps")[1]["correctedBy"] == .array([.number(6)]))
            #expect(!pack.text.contains("Lovelace") && !pack.text.contains("bereavement"), "no child's details, and no free text, in the pack")
            #expect(try await client.send(.get, "/v1/cases/\(ordered)/tribunal-evidence", as: "Bob").status == 404)
            let packCSV = try await client.send(.get, "/v1/cases/\(ordered)/tribunal-evidence", as: "Ann", headers: ["Accept": "text/csv"])
            #expect(packCSV.text.contains("deadline,4,2025-04-01,,,order assess,R-ORDER-ASSESS-NOTIFY-2W,2025-04-15,metLate,2025-04-22,7\r\n"))
            #expect(packCSV.text.contains("step,5,2025-04-22,") && !packCSV.text.contains("bereavement"))
        }
    }
}
