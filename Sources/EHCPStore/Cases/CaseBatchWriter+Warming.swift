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
                let (histories, heads) = try await pool.transaction(council: council) { [repository] connection in
                    let heads = try connection.query(
                        """
                        SELECT s.case_id, s.version, e.global_position FROM case_streams s
                        JOIN events e ON e.case_id = s.case_id AND e.version = s.version WHERE s.case_id = ANY($1::uuid[])
                        """, [PostgresArray(ids.map(\.postgresText))]
                    ).rows.map { row throws(PostgresError) in
                        (try row.decode(UUID.self, at: 0), (try row.decode(Int.self, at: 1), try row.decode(Int64.self, at: 2)))
                    }
                    return (try repository.store.readHistories(caseIds: ids, on: connection), Dictionary(heads, uniquingKeysWith: { a, _ in a }))
                }
                let folded = histories.compactMap { caseId, history -> (UUID, CaseState, Int64)? in
                    let state = CaseState(history: history)
                    guard state.version == state.history.count, let head = heads[caseId], head.0 == state.version else { return nil }
                    return (caseId, state, head.1)
                }
                states.hold(folded, council: council)
                held += folded.count
            }
        }
        return held
    }
}
