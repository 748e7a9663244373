import EHCPDomain
import EHCPReports
import EHCPStore
import Logging
import Postgres

/// What the API needs, wired by the composition root (EHCPServer) or by a test.
public struct APIDependencies: Sendable {
    public var pool: PostgresPool
    public var repository: CaseRepository
    /// What the case routes ask of the store (opening, recording, reading cases), without a connection.
    public var cases: CaseWork
    /// Records events on existing cases in batches (group commit).
    public var writer: CaseBatchWriter { cases.writer }
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
        self.cases = CaseWork(pool: pool, repository: repository, writer: writer ?? CaseBatchWriter(repository: repository, pool: pool))
        self.today = today
        self.metrics = metrics
        self.targets = targets
        self.caseReferences = caseReferences
    }

    var engine: DeadlineEngine { repository.decider.engine }

    /// Who the store's access log names for this user and request.
    func caller(_ user: AuthenticatedUser, _ context: APIContext) -> CaseWork.Caller {
        CaseWork.Caller(council: user.councilId, userId: user.userId, name: user.name, request: context.accessRequest)
    }

    /// Runs `body` in a transaction acting for the caller's council; every error becomes a problem.
    func inCouncil<T: Sendable>(_ user: AuthenticatedUser, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        do {
            return try await pool.transaction(council: user.councilId, body)
        } catch {
            throw Problem.from(error)
        }
    }
}
