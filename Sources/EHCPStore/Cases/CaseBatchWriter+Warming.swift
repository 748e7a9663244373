import EHCPDomain
import Foundation
import Postgres

extension CaseBatchWriter {
    /// Reads and holds the folded states of the cases most likely to be written next, so that the first
    /// event on each after a start does not pay for reading and folding its whole history
    /// (`CaseStateCache`). `ehcp serve` runs it in the background at start; requests meanwhile are served
    /// as usual, and a state held here is correct whatever they write (it is a committed prefix).
    ///
    /// Cases still open come first, most recently changed first, in every council, up to one generation of
    /// the cache (`cachedCases`) in all.
    ///
    /// - Returns: how many cases' states it now holds.
    @discardableResult
    public func holdOpenCases(chunk: Int = 500) async throws -> Int {
        let councils = try await pool.withConnection { connection in
            try connection.query("SELECT council_id FROM councils ORDER BY code").rows.map { try $0.decode(UUID.self, at: 0) }
        }
        var held = 0
        for council in councils {
            let limit = states.generationSize - held
            guard limit > 0 else { break }
            let caseIds = try await pool.transaction(council: council) { connection in
                try connection.query(
                    """
                    SELECT case_id FROM case_summary WHERE stage NOT IN ('withdrawn', 'ceased', 'transferredOut')
                    ORDER BY updated_at DESC LIMIT $1
                    """, [limit]
                ).rows.map { try $0.decode(UUID.self, at: 0) }
            }
            for start in stride(from: 0, to: caseIds.count, by: chunk) {
                try Task.checkCancellation()
                let ids = Array(caseIds[start..<min(start + chunk, caseIds.count)])
                let histories = try await pool.transaction(council: council) { [repository] connection in
                    try repository.store.readHistories(caseIds: ids, on: connection)
                }
                let folded = histories.map { ($0.key, CaseState(history: $0.value)) }.filter { $0.1.version == $0.1.history.count }
                states.hold(folded, council: council)
                held += folded.count
            }
        }
        return held
    }
}
