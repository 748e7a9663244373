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
    /// Alerts and webhooks, children's records, and reports: the other routes' seams.
    public var alerts: AlertWork
    public var children: ChildWork
    public var reports: ReportWork
    /// Today in Europe/London. Injected so that tests can fix the date.
    public var today: @Sendable () -> CivilDate
    /// What `/metrics` shows; the other parts of the service record through its `factory`.
    public var metrics: ServiceMetrics
    /// Monthly targets shown beside the timeliness figures.
    public var targets: Targets { reports.targets }
    /// The shape case references must have (the settings file's `caseReferencePattern`).
    public var caseReferences: CaseReferencePattern

    public init(
        pool: PostgresPool, repository: CaseRepository, today: @escaping @Sendable () -> CivilDate, metrics: ServiceMetrics = ServiceMetrics(),
        targets: Targets = Targets(), caseReferences: CaseReferencePattern = CaseReferencePattern(), writer: CaseBatchWriter? = nil,
        replica: ReplicaReads? = nil
    ) {
        self.pool = pool
        self.repository = repository
        self.cases = CaseWork(
            pool: pool, repository: repository, writer: writer ?? CaseBatchWriter(repository: repository, pool: pool), replica: replica)
        self.alerts = AlertWork(pool: pool)
        self.children = ChildWork(pool: pool, replica: replica)
        self.reports = ReportWork(pool: pool, targets: targets, replica: replica)
        self.today = today
        self.metrics = metrics
        self.caseReferences = caseReferences
    }

    public var engine: DeadlineEngine { repository.decider.engine }

    /// Who the store's access log names for this user and request.
    public func caller(_ user: AuthenticatedUser, _ context: APIContext) -> CaseWork.Caller {
        CaseWork.Caller(council: user.councilId, userId: user.userId, name: user.name, request: context.accessRequest)
    }
}
