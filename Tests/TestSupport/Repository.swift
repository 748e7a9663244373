import EHCPDomain
import EHCPStore

extension CaseRepository {
    /// The repository the test suites record cases through: the England and Wales calendar, default
    /// local settings. Built once (loading the bank holidays is not free).
    public static let englandAndWales = CaseRepository(
        decider: CaseDecider(engine: DeadlineEngine(calendar: try! WorkingDayCalendar.englandAndWales())))
}
