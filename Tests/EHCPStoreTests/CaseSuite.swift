import EHCPDomain
import EHCPStore
import Foundation
import TestSupport

/// What the suites that record case events share: a fresh database with one council, the repository
/// over the England and Wales calendar, and commands logged by a caseworker.
protocol CaseSuite {
    var database: TestDatabase { get }
    var council: UUID { get }
}

extension CaseSuite {
    var repository: CaseRepository { .englandAndWales }

    /// A fresh database and its one council.
    static func freshCouncil() throws -> (TestDatabase, UUID) {
        let database = try TestDatabase.make()
        return (database, try database.addCouncil())
    }

    func log(_ event: CaseEvent, on day: String, today: String = "2025-04-21") -> LogEvent {
        LogEvent(event, on: CivilDate(iso: day)!, by: "caseworker:ann", today: CivilDate(iso: today)!)
    }
}
