import EHCPDomain
import EHCPReports
import EHCPStore
import Foundation
import Postgres
import TestSupport

/// A database with one council and cases recorded through the repository, event by event.
struct ReportsHarness {
    let database: TestDatabase
    let council: UUID
    let pool: PostgresPool
    let repository = CaseRepository.englandAndWales

    init() throws {
        database = try TestDatabase.make()
        council = try database.addCouncil(code: "R")
        pool = try database.pool(size: 2)
    }

    /// Records `events` (event, date) on a new case with reference `reference`, each on its own day.
    @discardableResult
    func record(_ reference: String, _ events: [(CaseEvent, String)], team: String = "North") async throws -> UUID {
        let caseId = UUID()
        let opening = CivilDate(iso: events[0].1)!
        var all = events
        all.insert((.caseworkerAssigned(CaseworkerAssigned(caseworker: "Cat", team: team)), events[0].1), at: 1)
        for (event, day) in all {
            let date = CivilDate(iso: day)!
            _ = try await repository.record(
                CaseCommand(
                    council: council, caseId: caseId, command: LogEvent(event, on: date, by: "test", today: max(date, opening)),
                    opening: .init(reference: reference, childId: nil)), pool: pool)
        }
        return caseId
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await pool.transaction(council: council, body)
    }

    func shutdown() { pool.shutdown() }
}

func date(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }
let request = CaseEvent.requestReceived(RequestReceived(requestSource: .parent))
