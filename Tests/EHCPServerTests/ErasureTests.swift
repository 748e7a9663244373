import EHCPDomain
import EHCPScheduler
import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

/// Erasure leaves nothing behind (UK GDPR art. 17): after a child's details are erased, a dump of the
/// whole database, every table, stored response, outbox payload and alert included, holds none of them.
@Suite("Erasure")
struct ErasureTests {
    /// Details no other row of the database could hold by chance.
    static let forename = "Zephyrine"
    static let surname = "Quillfeather"
    static let bornOn = "2013-02-17"
    static let postcode = "ZZ9 9ZZ"
    static let upn = "Q123456789012"

    /// Every way the details may be written: as given, in other cases, without spaces, the date in UK forms.
    static var traces: [String] {
        [forename, surname, postcode, postcode.replacingOccurrences(of: " ", with: ""), upn, bornOn, "17/02/2013", "20130217", "17 February 2013"]
    }

    /// `pg_dump` of the whole database as the superuser, in plain SQL.
    static func dump(_ database: TestDatabase) throws -> String {
        let server = ProcessInfo.processInfo.environment["EHCP_TEST_PG_BIN"].map { "\($0)/pg_dump" }
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: server.flatMap { FileManager.default.isExecutableFile(atPath: $0) ? $0 : nil } ?? "/usr/bin/pg_dump")
        process.arguments = ["--no-owner", "-d", database.conninfo]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw PostgresError(.query, message: "pg_dump exited with \(process.terminationStatus)") }
        return text
    }

    @Test("after erasure a dump of the whole database holds none of the child's name, date of birth, UPN or postcode")
    func dumpAfterErasure() async throws {
        let harness = try APIHarness()
        try await harness.run { client in
            let hook = try await client.send(
                .post, "/v1/webhooks", as: "Ada", json: #"{"url":"https://receiver.example/hook","secret":"0123456789abcdef0123"}"#)
            #expect(hook.status == 201)
            let opened = try await client.send(
                .post, "/v1/cases", as: "Ann",
                json: """
                    {"event":{"type":"RequestReceived","occurredOn":"2025-03-03","data":{"requestSource":"parent"}},
                     "child":{"forename":"\(Self.forename)","surname":"\(Self.surname)","bornOn":"\(Self.bornOn)","sex":"F",
                              "postcode":"\(Self.postcode)","upn":"\(Self.upn)"},"reference":"EHC-ERASE-1"}
                    """, headers: ["Idempotency-Key": "open-erasable-1"])
            #expect(opened.status == 201)
            let caseId = try #require(opened.string("caseId")).lowercased()
            _ = try await client.log(caseId, "CaseworkerAssigned", on: "2025-03-04", data: #"{"caseworker":"Ann","team":"North"}"#, as: "Meg")
            // Every read that touches the details: the case, a search by name, the list, the export, the SEN2 return.
            let read = try await client.send(.get, "/v1/cases/\(caseId)", as: "Ann")
            let childId = try #require(read["child"]?.objectValue?["childId"]?.string)
            #expect(try await client.send(.get, "/v1/cases?q=\(Self.surname)", as: "Ann").array("cases").count == 1)
            #expect(try await client.send(.get, "/v1/children/\(childId)/export", as: "Meg").text.contains(Self.upn))
            #expect(try await client.send(.get, "/v1/exports/sen2?year=2025", as: "Meg").status == 200)
            // The scheduler breaches the decision deadline (due 14 April): alerts and a webhook delivery in the outbox.
            let swept = try await DeadlineSweeper(pool: harness.pool, repository: harness.deps.repository).sweep(today: APIHarness.today)
            #expect(swept.breaches >= 1 && swept.alerts >= 1)

            let before = try Self.dump(harness.database)
            #expect(Self.traces.filter { before.localizedCaseInsensitiveContains($0) }.count >= 5)  // the search below can find them

            let erased = try await client.send(
                .post, "/v1/children/\(childId)/erasure", as: "Ada", json: #"{"reason":"end of retention"}"#,
                headers: ["Idempotency-Key": "erase-1"])
            #expect(erased.status == 200)
            let after = try Self.dump(harness.database)
            for trace in Self.traces {
                let lines = after.split(separator: "\n").filter { $0.localizedCaseInsensitiveContains(trace) }
                #expect(lines.isEmpty, "'\(trace)' is still in the database: \(lines.prefix(3))")
            }
            // What stays: the case, its events and deadlines, anonymous; the erasure itself in the access log, with its reason.
            #expect(after.contains("EHC-ERASE-1") && after.contains("R-DECIDE-6W") && after.contains("end of retention"))
        }
    }
}
