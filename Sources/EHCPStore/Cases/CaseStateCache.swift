import CoreMetrics
import EHCPDomain
import Foundation

/// Folded case states, by case, held by the batch writer between batches.
///
/// Every command decides on its case's whole history, and reading and folding that history again for
/// each event was a third of the database's time on the write path and much of the writer's own. Events
/// are immutable and a case's versions run 1, 2, 3 … without gaps (the application role may only insert
/// into `events`, and `(case_id, version)` is unique), so a state folded from versions 1 … v stays the
/// true state of those versions for ever. The writer therefore reads only the events after the version
/// it holds, whoever wrote them (the scheduler, a request on another path or another server), and folds
/// them on. A state is held only after the transaction that read or wrote its events has committed, and
/// only for the council it was read under: row-level security decides what a council may see, and a
/// held state is never shown to another.
///
/// A held state is checked against the database each time it is used: the event at its version must
/// still be the one it folded (the same `global_position`), and the stream's head must be where the
/// state ends after folding what is newer. Otherwise it is forgotten (a database restored from a backup
/// under a running server, or a standby promoted before it had every commit, may have lost versions 9
/// and 10 and then stored a different 9 and 10): it is never the ground for a decision on lost facts.
///
/// Memory is bounded by `GenerationalCache`: at most two generations of `generationSize` cases.
final class CaseStateCache: Sendable {
    struct Held: Sendable {
        var council: UUID
        var state: CaseState
        /// The `global_position` of the state's last event: its identity in this database.
        var lastPosition: Int64
    }

    private let cache: GenerationalCache<UUID, Held>

    /// Cases per generation: at most twice as many are held.
    var generationSize: Int { cache.generationSize }

    /// What the writer found for its commands' cases (`ehcp_case_states_held_total`): a state held, none
    /// held, or one held that the database no longer matches (forgotten; the stored stream decides).
    let found: (hit: Counter, miss: Counter, stale: Counter)

    init(generationSize: Int, metrics: any MetricsFactory = NOOPMetricsHandler.instance) {
        cache = GenerationalCache(generationSize: generationSize)
        let counter = { (outcome: String) in Counter(label: "ehcp_case_states_held_total", dimensions: [("outcome", outcome)], factory: metrics) }
        found = (counter("hit"), counter("miss"), counter("stale"))
    }

    /// The states held for `caseIds` as `council` (nil where none is, or where it was read for another council).
    func states(of caseIds: [UUID], council: UUID) -> [CaseState?] {
        held(caseIds, council: council).map { $0?.state }
    }

    /// What is held for `caseIds` as `council`, with each state's last position.
    func held(_ caseIds: [UUID], council: UUID) -> [Held?] {
        cache.values(for: caseIds).map { held in held?.council == council ? held : nil }
    }

    /// Holds committed states of cases read as `council`, each with the position of its last event; a
    /// later one for the same case replaces an earlier.
    func hold(_ states: [(UUID, CaseState, Int64)], council: UUID) {
        cache.insert(states.map { ($0.0, Held(council: council, state: $0.1, lastPosition: $0.2)) })
    }

    /// Drops what is held for `caseIds`.
    func forget(_ caseIds: [UUID]) {
        cache.remove(caseIds)
    }

    /// Cases held now (for tests).
    var count: Int { cache.count }
}
