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
/// A held state is checked against the stream's head each time it is used, and forgotten when it is ahead
/// (a database restored from a backup under a running server, or a standby promoted before it had every
/// commit): it is never the ground for an event whose version would leave a gap.
///
/// Memory is bounded by `GenerationalCache`: at most two generations of `generationSize` cases.
final class CaseStateCache: Sendable {
    private struct Held: Sendable {
        var council: UUID
        var state: CaseState
    }

    private let cache: GenerationalCache<UUID, Held>

    /// Cases per generation: at most twice as many are held.
    var generationSize: Int { cache.generationSize }

    init(generationSize: Int) {
        cache = GenerationalCache(generationSize: generationSize)
    }

    /// The states held for `caseIds` as `council` (nil where none is, or where it was read for another council).
    func states(of caseIds: [UUID], council: UUID) -> [CaseState?] {
        cache.values(for: caseIds).map { held in held?.council == council ? held?.state : nil }
    }

    /// Holds committed states of cases read as `council`; a later one for the same case replaces an earlier.
    func hold(_ states: [(UUID, CaseState)], council: UUID) {
        cache.insert(states.map { ($0.0, Held(council: council, state: $0.1)) })
    }

    /// Drops what is held for `caseIds`.
    func forget(_ caseIds: [UUID]) {
        cache.remove(caseIds)
    }

    /// Cases held now (for tests).
    var count: Int { cache.count }
}
