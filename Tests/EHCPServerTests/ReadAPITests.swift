import EHCPAPI
import EHCPDomain
import Foundation
import Testing

@Suite("API reads: search, pagination, work tray, subject access, erasure, metrics")
struct ReadAPITests {
    @Test("cases can be searched by name, reference, caseworker, stage, overdue and due window, a page at a time")
    func search() async throws {
        try await APIHarness().run { client in
            var ids: [String] = []
            for n in 0..<7 {
                ids.append(
                    try await client.openCase(
                        on: "2025-04-\(String(format: "%02d", 10 + n))", forename: "Kid\(n)", surname: n < 3 ? "Smith" : "Jones",
                        reference: "EHC-S-\(n)"))
            }
            _ = try await client.log(ids[0], "CaseworkerAssigned", on: "2025-04-10", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg")
            _ = try await client.log(ids[1], "DecidedToAssess", on: "2025-04-20")
            #expect(try await client.send(.get, "/v1/cases?q=smith", as: "Ann").array("cases").count == 3)
            #expect(try await client.send(.get, "/v1/cases?q=EHC-S-5", as: "Ann").array("cases").map { $0["reference"]?.string } == ["EHC-S-5"])
            #expect(try await client.send(.get, "/v1/cases?caseworker=Ann", as: "Ann").array("cases").count == 1)
            #expect(try await client.send(.get, "/v1/cases?stage=assessment", as: "Ann").array("cases").count == 1)
            // Requests on 10–16 April: decisions due 22–28 May, so none is overdue on 1 May; a 25-day window catches 10–12 April.
            #expect(try await client.send(.get, "/v1/cases?overdue=true", as: "Ann").array("cases").isEmpty)
            let soon = try await client.send(.get, "/v1/cases?dueWithinDays=23", as: "Ann").array("cases").compactMap { $0["nextDueOn"]?.string }
            #expect(soon.allSatisfy { $0 <= "2025-05-24" } && !soon.isEmpty)
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await client.send(.get, "/v1/cases?limit=3" + (cursor.map { "&cursor=\($0)" } ?? ""), as: "Ann")
                seen += page.array("cases").compactMap { $0["reference"]?.string }
                cursor = page.string("nextCursor")?.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            } while cursor != nil
            #expect(seen == (0..<7).map { "EHC-S-\($0)" })
            #expect(try await client.send(.get, "/v1/cases?cursor=%%%", as: "Ann").status == 400)
        }
    }

    @Test("the work tray shows my (or my team's) deadlines due within N days and the breached ones")
    func workTray() async throws {
        try await APIHarness().run { client in
            let late = try await client.openCase(on: "2025-03-03")  // decision due 14 April: breached by 1 May
            let soon = try await client.openCase(on: "2025-04-01")  // decision due 13 May
            let bens = try await client.openCase(on: "2025-04-01")
            for (id, who) in [(late, "Ann"), (soon, "Ann"), (bens, "Ben")] {
                _ = try await client.log(id, "CaseworkerAssigned", on: "2025-04-01", data: #"{"caseworker":"\#(who)","team":"North"}"#, as: "Meg")
            }
            let mine = try await client.send(.get, "/v1/work-tray?days=14", as: "Ann")
            #expect(mine.array("breached").map { $0["caseId"]?.string?.lowercased() } == [late])
            #expect(mine.array("breached").first?["daysRemaining"]?.int == -17)
            #expect(mine.array("due").contains { $0["caseId"]?.string?.lowercased() == soon && $0["rule"]?.string == "R-DECIDE-6W" })
            #expect(!mine.array("due").contains { $0["caseId"]?.string?.lowercased() == bens })
            let team = try await client.send(.get, "/v1/work-tray?days=14&scope=team", as: "Ann")
            #expect(team.array("due").contains { $0["caseId"]?.string?.lowercased() == bens })
            #expect(try await client.send(.get, "/v1/work-tray?days=5", as: "Ann").array("due").isEmpty)
            #expect(try await client.send(.get, "/v1/work-tray?scope=everyone", as: "Ann").status == 400)
        }
    }

    @Test("subject access exports the child and their cases; erasure removes personal details and keeps the events; reads are logged")
    func exportAndErase() async throws {
        try await APIHarness().run { client in
            let caseId = try await client.openCase(forename: "Erin", surname: "Erasable")
            _ = try await client.log(caseId, "DecidedToAssess", on: "2025-04-01")
            let childId = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")["child"]?.objectValue?["childId"]?.string ?? ""
            let export = try await client.send(.get, "/v1/children/\(childId)/export", as: "Meg")
            #expect(export.status == 200)
            #expect(export["child"]?.objectValue?["surname"]?.string == "Erasable")
            #expect(export.array("cases").first?["events"].map { if case .array(let events) = $0 { events.count } else { 0 } } == 2)

            let erased = try await client.send(.post, "/v1/children/\(childId)/erasure", as: "Ada", json: #"{"reason":"end of retention"}"#)
            #expect(erased.status == 200)
            let after = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            #expect(after["child"]?.objectValue?["erased"] == .bool(true))
            #expect(after["child"]?.objectValue?["name"] == nil)
            #expect(after.string("stage") == "assessment")
            #expect(try await client.send(.get, "/v1/cases?q=Erasable", as: "Ann").array("cases").isEmpty)
            let again = try await client.send(.get, "/v1/children/\(childId)/export", as: "Meg")
            #expect(again["child"]?.objectValue?["surname"] == nil && again.array("cases").count == 1)

            let log = try await client.send(.get, "/v1/access-log?childId=\(childId)", as: "Aud").array("entries")
            let actions = log.compactMap { $0["action"]?.string }
            #expect(actions.filter { $0 == "exportChild" }.count == 2)
            #expect(actions.contains("eraseChild") && actions.contains("readCase") && actions.contains("openCase"))
            #expect(log.allSatisfy { ($0["requestId"]?.string?.isEmpty) == false })
        }
    }

    @Test("/metrics counts requests by route and status, refused sign-ins, held case states and waits for a connection")
    func metrics() async throws {
        try await APIHarness().run { client in
            _ = try await client.send(.get, "/v1/cases", as: "Ann")
            _ = try await client.send(.get, "/v1/cases", as: "nobody")
            let caseId = try await client.openCase()
            for day in ["2025-03-04", "2025-03-05"] {
                _ = try await client.log(caseId, "CaseworkerAssigned", on: day, data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg")
            }
            let text = try await client.send(.get, "/metrics", as: nil).text
            #expect(text.contains(#"ehcp_http_requests_total{method="GET",route="/v1/cases",status="200"} 1"#), "\(text)")
            #expect(text.contains(#"ehcp_http_requests_total{method="GET",route="/v1/cases",status="401"} 1"#))
            #expect(text.contains(#"ehcp_http_request_duration_seconds_bucket{method="GET",route="/v1/cases",status="200",le="+Inf"} 1"#))
            #expect(text.contains(#"ehcp_sign_in_failures_total{channel="api"} 1"#))
            #expect(text.contains(#"ehcp_sign_in_failures_total{channel="web"} 0"#))
            // The first assignment found no state held (the case was opened on another path); the second found it.
            #expect(text.contains(#"ehcp_case_states_held_total{outcome="miss"} 1"#))
            #expect(text.contains(#"ehcp_case_states_held_total{outcome="hit"} 1"#))
            #expect(text.contains(#"ehcp_db_pool_wait_seconds_count{pool="api"}"#))
            #expect(text.contains(#"ehcp_db_pool_timeouts_total{pool="api"} 0"#))
        }
    }
}
