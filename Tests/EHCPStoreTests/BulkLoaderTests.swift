import EHCPDemo
import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Bulk loading")
struct BulkLoaderTests {
    @Test("bulk-loaded cases read back exactly as generated, with their projections")
    func roundTrip() async throws {
        let database = try TestDatabase.make()
        let council = try database.addCouncil()
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let asOf = CivilDate(iso: "2026-11-02")!
        let caseload = DemoCaseload(seed: 9, asOf: asOf, decider: CaseDecider(engine: engine))
        let cases = (0..<150).map { caseload.generate($0) }
        let bulk = cases.map { demo in
            BulkCase(
                caseId: demo.caseId, council: council, reference: demo.reference,
                child: {
                    var child = demo.child
                    child.postcode = "tab\there \\ and\nnewline"
                    return child
                }(),
                history: demo.history)
        }
        let owner = try database.pool(asApplication: false)
        defer { owner.shutdown() }
        let written = try await owner.transaction(council: council) { try BulkLoader(engine: engine).load(bulk, on: $0) }
        let pool = try database.pool()  // read back as the application role, through row-level security
        defer { pool.shutdown() }
        #expect(written == cases.reduce(0) { $0 + $1.history.count })
        let repository = CaseRepository(decider: CaseDecider(engine: engine))
        for demo in cases {
            let (state, summaryVersion, deadlineCount) = try await pool.transaction(council: council) { connection in
                (
                    try repository.load(caseId: demo.caseId, on: connection),
                    try connection.query("SELECT version FROM case_summary WHERE case_id = $1", [demo.caseId]).first?.decode(Int.self, at: 0),
                    try connection.query("SELECT count(*) FROM deadlines WHERE case_id = $1", [demo.caseId]).first!.decode(Int.self, at: 0)
                )
            }
            #expect(state?.history == demo.history)
            #expect(summaryVersion == demo.history.count)
            #expect(deadlineCount == CaseState(history: demo.history).deadlines(engine, asOf: asOf).deadlines.count)
        }
        let postcode = try await pool.transaction(council: council) { connection in
            try connection.query("SELECT postcode FROM children LIMIT 1").first!.decode(String.self, at: 0)
        }
        #expect(postcode == "tab\there \\ and\nnewline")
    }
}
