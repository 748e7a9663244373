import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// What the report routes, and the managers' pages after them, ask for: each report one transaction
/// acting for a council, over the projections; callers never hold a connection.
public struct ReportWork: Sendable {
    let pool: PostgresPool
    /// Monthly targets shown beside the timeliness figures.
    public let targets: Targets
    /// A hot standby the reports read from when it is current enough; nil reads the primary.
    let replica: ReplicaReads?

    public init(pool: PostgresPool, targets: Targets, replica: ReplicaReads? = nil) {
        self.pool = pool
        self.targets = targets
        self.replica = replica
    }

    /// A report's transaction: on the standby when there is one and it is current enough, else the primary.
    private func read<T: Sendable>(council: UUID, _ body: @escaping @Sendable (PostgresConnection) throws -> T) async throws -> T {
        try await ReplicaReads.read(replica, council: council, primary: pool, body)
    }

    /// A timeliness measure for a period, grouped (statutory-timescales.md §5).
    public func timeliness(_ query: TimelinessReport.Query, council: UUID) async throws -> TimelinessReport.Result {
        try await read(council: council) { [targets] in try TimelinessReport(targets: targets).run(query, on: $0) }
    }

    /// The cases behind one cell of a timeliness report (`group` nil for the total).
    public func trace(_ query: TimelinessReport.Query, group: String?, council: UUID) async throws -> [TimelinessReport.TraceRow] {
        try await read(council: council) { try TimelinessReport().trace(query, group: group, on: $0) }
    }

    public func breaches(_ query: BreachReport.Query, council: UUID) async throws -> BreachReport.Result {
        try await read(council: council) { try BreachReport().run(query, on: $0) }
    }

    public func caseload(from: CivilDate, to: CivilDate, census: CivilDate, council: UUID) async throws -> CaseloadReport.Result {
        try await read(council: council) { try CaseloadReport().run(from: from, to: to, census: census, on: $0) }
    }

    /// The DfE's published measures (annual reviews, phase transfers, 6-week request outcomes) for a year.
    public func dfe(year: Int, council: UUID) async throws -> DfEMeasures.Result {
        try await read(council: council) { try DfEMeasures().run(year: year, on: $0) }
    }

    /// Every tribunal order's and conceded appeal's deadlines started in a period, as of a day.
    public func tribunalOrders(from: CivilDate, to: CivilDate, asOf: CivilDate, council: UUID) async throws -> TribunalOrdersReport.Result {
        try await read(council: council) { try TribunalOrdersReport().run(from: from, to: to, asOf: asOf, on: $0) }
    }

    /// The SEN2 return for a calendar year, read from the standby when there is one. It reads every
    /// child's name, birth date, postcode and UPN, so each child is an entry in the access log, committed
    /// on the primary before the return is handed over.
    public func sen2(year: Int, for caller: CaseWork.Caller) async throws -> SEN2Export.Result {
        try await ReplicaReads.logged(
            replica, council: caller.council, primary: pool, read: { try SEN2Export().run(year: year, on: $0) },
            log: { result, connection in
                try AccessLog().record(
                    .exportSEN2, user: caller.userId, actor: caller.name, children: result.children, request: caller.request, on: connection)
            })
    }
}
