import EHCPDomain
import Foundation
import Postgres

/// Recomputes the projections (`case_summary`, `deadlines`) from the event log, the source of truth:
/// after local reminder offsets change, after a fix to how a rule is computed, or to repair them.
///
/// Cases are rebuilt in batches, each in its own transaction that first locks the batch's stream heads.
/// Every writer moves a case's head in the transaction that writes its events and projections, so the
/// service can keep running: a write to a case waits for its batch, and a batch never sees half a write. A case's reference and child link, which no event holds, are kept.
public struct ProjectionRebuilder: Sendable {
    public let engine: DeadlineEngine
    let store = EventStore()
    let projector = CaseProjector()

    public init(engine: DeadlineEngine) { self.engine = engine }

    public struct Progress: Sendable, Equatable {
        public var cases = 0
        public var events = 0
    }

    /// Rebuilds every council's projections when a migration left them computed by an older engine
    /// (`projections_stale`), then clears the note. Returns the reasons it rebuilt for (empty: nothing
    /// was stale). Needs the owner's connection, which sees every council.
    public func rebuildIfStale(on connection: PostgresConnection, progress: (Progress) -> Void = { _ in }) throws -> [String] {
        let notes = try connection.query("SELECT since_version, reason FROM projections_stale ORDER BY since_version").rows.map {
            (try $0.decode(Int.self, at: 0), try $0.decode(String.self, at: 1))
        }
        guard !notes.isEmpty else { return [] }
        try rebuild(on: connection, progress: progress)
        // Only the notes this rebuild answered: one a newer migration added meanwhile stays.
        try connection.query("DELETE FROM projections_stale WHERE since_version = ANY($1::int[])", [PostgresArray(notes.map { String($0.0) })])
        return notes.map(\.1)
    }

    /// Rebuilds every case of `council` (every council when nil), on a connection that sees all rows
    /// (the table owner's: it runs across councils).
    @discardableResult
    public func rebuild(
        council: UUID? = nil, batchSize: Int = 500, on connection: PostgresConnection, progress: (Progress) -> Void = { _ in }
    ) throws -> Progress {
        var done = Progress()
        var after = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        while true {
            let batch = try connection.query(
                "SELECT case_id FROM case_streams WHERE ($1::uuid IS NULL OR council_id = $1) AND case_id > $2 ORDER BY case_id LIMIT $3",
                [council, after, batchSize]
            ).rows.map { try $0.decode(UUID.self, at: 0) }
            guard let last = batch.last else { return done }
            let (cases, events) = try connection.transaction { connection in
                let heads = try connection.query(
                    "SELECT case_id, council_id FROM case_streams WHERE case_id = ANY($1::uuid[]) ORDER BY case_id FOR UPDATE",
                    [PostgresArray(batch.map(\.postgresText))]
                ).rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(UUID.self, at: 1)) }
                let histories = try store.readHistories(caseIds: heads.map(\.0), on: connection)
                try connection.query("DELETE FROM deadlines WHERE case_id = ANY($1::uuid[])", [PostgresArray(heads.map(\.0.postgresText))])
                var changes = ProjectionChanges()
                var events = 0
                for (caseId, council) in heads {
                    let history = histories[caseId] ?? []
                    events += history.count
                    // From nothing: every row is written, none kept from before.
                    changes.add(
                        council: council, caseId: caseId, reference: nil, childId: nil, previous: CaseState(), state: CaseState(history: history),
                        engine: engine)
                }
                try projector.write(changes, on: connection)
                // The batch took away and added back every clock it counts: folded now, the changes stay few.
                try ReportCounts().fold(on: connection)
                return (heads.count, events)
            }
            done.cases += cases
            done.events += events
            progress(done)
            after = last
        }
    }
}
