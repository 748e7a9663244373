import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import TestSupport

@testable import EHCPScheduler

/// A database with one council, a caseworker and a manager in team North, and cases opened through the
/// repository. The scheduler's today is always passed in: no test waits for a real day to pass.
struct SchedulerHarness {
    let database: TestDatabase
    let council: UUID
    let pool: PostgresPool
    let repository = CaseRepository.englandAndWales

    init() throws {
        database = try TestDatabase.make()
        council = try database.addCouncil(code: "S")
        let owner = try database.connect()
        defer { owner.close() }
        _ = try UserDirectory().addUser(name: "Ann", role: .caseworker, team: "North", council: council, on: owner)
        _ = try UserDirectory().addUser(name: "Meg", role: .manager, team: "North", council: council, on: owner)
        pool = try database.pool(size: 4)
    }

    /// Links in emails point here; a sweeper given them queues emails.
    static let links = EmailContent.Links(base: "https://ehcp.council.example")

    func sweeper(pool: PostgresPool? = nil, batchSize: Int = 100, workers: Int = 2, emails: Bool = false) -> DeadlineSweeper {
        DeadlineSweeper(
            pool: pool ?? self.pool, repository: repository, batchSize: batchSize, workers: workers, emailLinks: emails ? Self.links : nil)
    }

    /// Sets a user's address as an administrator would (the owner's login).
    func setEmail(_ name: String, _ address: String?) throws {
        let owner = try database.connect()
        defer { owner.close() }
        try UserDirectory().setEmail(userId: try UserDirectory().userId(name: name, council: council, on: owner), address: address, on: owner)
    }

    /// Runs SQL as the owner (a test's way to move time on for a lease, or to change a choice).
    func asOwner(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws {
        let owner = try database.connect()
        defer { owner.close() }
        try owner.query(sql, parameters)
    }

    /// Opens a case requested on `day` (R-DECIDE-6W due six weeks later) assigned to Ann.
    @discardableResult
    func openCase(on day: String = "2025-03-03") async throws -> UUID {
        let caseId = UUID()
        let date = CivilDate(iso: day)!
        for event in [
            CaseEvent.requestReceived(RequestReceived(requestSource: .parent)),
            .caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North")),
        ] {
            _ = try await repository.record(
                CaseCommand(council: council, caseId: caseId, command: LogEvent(event, on: date, by: "Ann", today: date)), pool: pool)
        }
        return caseId
    }

    /// Scheduler events on the database, as (case, type, data) rows.
    func schedulerEvents() async throws -> [(UUID, String, String)] {
        try await pool.transaction(council: council) { connection in
            try connection.query(
                "SELECT case_id, type, data::text FROM events WHERE type IN ('DeadlineBreached', 'DeadlineReminderSent') ORDER BY case_id, version"
            ).rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1), try $0.decode(String.self, at: 2)) }
        }
    }

    func count(_ sql: String) async throws -> Int {
        try await pool.transaction(council: council) { try $0.query(sql).first!.decode(Int.self, at: 0) }
    }

    func shutdown() { pool.shutdown() }
}

func day(_ iso: String) -> CivilDate { CivilDate(iso: iso)! }
