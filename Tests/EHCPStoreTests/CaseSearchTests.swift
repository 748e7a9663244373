import EHCPDemo
import EHCPDomain
import Foundation
import Postgres
import TestSupport
import Testing

@testable import EHCPStore

/// A search's three ways to a page (the first cases in reference order; the cases the name and
/// reference indexes name; every case in order) give the page reading every case would give.
@Suite("Searching cases")
struct CaseSearchTests {
    /// Small bounds, so that 240 cases exercise every way: a walk of 40 cases, and at most 30 named.
    let queries = CaseQueries(walked: 40, fewMatches: 30)

    @Test("each way to a page gives the page a reading of every case gives, and only the council's own cases")
    func searchesMatchEveryCase() async throws {
        let database = try TestDatabase.make()
        let (council, other) = (try database.addCouncil(code: "S"), try database.addCouncil(code: "T"))
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let asOf = CivilDate(iso: "2026-06-01")!
        let caseload = DemoCaseload(seed: 4, asOf: asOf, decider: CaseDecider(engine: engine))
        let demo = (0..<260).map(caseload.generate).sorted { $0.reference < $1.reference }
        // In reference order: "Common" on every third case; "Middling" on every tenth (4 of the first 40, not
        // a page of 10, but enough to walk on); "Sparse" on 50 cases, all past the first 40; "Rarename" on
        // the last two; the other council has a "Rarename" too.
        func surname(_ index: Int) -> String {
            if index >= 238 { return "Rarename" }
            if index >= 60 && index < 160 && index % 2 == 0 { return "Sparse" }
            if index % 10 == 5 { return "Middling" }
            return index % 3 == 0 ? "Common" : "Other\(index)"
        }
        var names: [String: String] = [:]
        let bulk = demo.enumerated().map { index, demo in
            var child = demo.child
            (child.forename, child.surname) = ("Kid", surname(index))
            if index < 240 { names[demo.reference] = "Kid \(child.surname)" }
            return BulkCase(
                caseId: demo.caseId, council: index < 240 ? council : other, reference: demo.reference, child: child, history: demo.history)
        }
        let owner = try database.pool(asApplication: false)
        defer { owner.shutdown() }
        _ = try await owner.transaction(council: council) { try BulkLoader(engine: engine).load(bulk, on: $0) }
        let pool = try database.pool()
        defer { pool.shutdown() }

        func expected(_ text: String, after: String? = nil, limit: Int) -> [String] {
            names.filter { reference, name in
                (reference.uppercased().hasPrefix(text.uppercased()) || name.lowercased().contains(text.lowercased()))
                    && after.map { reference > $0 } ?? true
            }.keys.sorted().prefix(limit).map { $0 }
        }
        let queries = queries
        for (text, limit) in [
            ("Common", 10), ("Middling", 10), ("Rarename", 10), ("Sparse", 10), ("sparse", 60), ("Ra", 5), (demo[200].reference, 5), ("Nobody", 5),
        ] {
            var filter = CaseQueries.Filter()
            filter.text = text
            filter.limit = limit
            let search = filter
            let found = try await pool.transaction(council: council) { try queries.list(search, today: asOf, on: $0).map(\.reference) }
            #expect(found == expected(text, limit: limit), "\(text)")
            #expect(!found.isEmpty || text == "Nobody", "\(text)")
        }
        // The next page after a cursor, through the indexes.
        var filter = CaseQueries.Filter()
        (filter.text, filter.after, filter.limit) = ("Rarename", demo[238].reference, 5)
        let search = filter
        let next = try await pool.transaction(council: council) { try queries.list(search, today: asOf, on: $0).map(\.reference) }
        #expect(next == [demo[239].reference])
    }
}
