import EHCPDomain
import EHCPReports
import EHCPStore
import Logging
import Postgres

/// What the API needs, wired by the composition root (EHCPServer) or by a test.
public struct APIDependencies: Sendable {
    public var pool: PostgresPool
    public var repository: CaseRepository
    /// Records events on existing cases in batches (group commit); `repository` does everything else.
    public var writer: CaseBatchWriter
    /// Today in Europe/London. Injected so that tests can fix the date.
    public var today: @Sendable () -> CivilDate
    public var metrics: RequestMetrics
    /// Monthly targets shown beside the timeliness figures.
    public var targets: Targets
    /// The shape case references must have (the settings file's `caseReferencePattern`).
    public var caseReferences: CaseReferencePattern

    public init(
        pool: PostgresPool, repository: CaseRepository, today: @escaping @Sendable () -> CivilDate, metrics: RequestMetrics = RequestMetrics(),
        targets: Targets = Targets(), caseReferences: CaseReferencePattern = CaseReferencePattern(), writer: CaseBatchWriter? = nil
    ) {
        self.pool = pool
        self.repository = repository
        self.writer = writer ?? CaseBatchWriter(repository: repository, pool: pool)
        self.today = today
        self.metrics = metrics
        self.targets = targets
        self.caseReferences = caseReferences
    }

    var engine: DeadlineEngine { repository.decider.engine }

    /// Runs `body` in a transaction acting for the caller's council; every error becomes a problem.
    func inCouncil<T: Sendable>(_ user: AuthenticatedUser, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await pool.transaction(council: user.councilId, body)
        } catch {
            throw Problem.from(error)
        }
    }
}
