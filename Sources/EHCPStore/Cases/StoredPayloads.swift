import EHCPDomain
import Synchronization

/// Decoded event payloads by their stored text, kept by an `EventStore` for the histories it reads.
///
/// Every write folds its case's whole history, so each stored event is decoded again and again, and most
/// payloads repeat across cases: an advice request names one of a few advice types, a review one of a
/// few references, a decision to assess carries nothing. Parsing their JSON and running the payload's
/// `Decodable` was the largest single cost of the write path. A payload is immutable and its decoding
/// depends only on (type, schema version, text), so a decoded one can be reused for any event with the
/// same three.
///
/// The memory is bounded: two generations of at most `generationSize` entries each. A lookup that hits
/// the older generation promotes its entry; when the current generation is full it becomes the older
/// one and the oldest is dropped. Payloads seen once (a breach's due date, a child's request) pass
/// through without pushing out the ones every history shares. Failures are not remembered.
final class StoredPayloads: Sendable {
    struct Key: Hashable {
        var type: String
        var schemaVersion: Int
        var data: String
    }

    private struct Generations {
        var current: [Key: CaseEvent] = [:]
        var previous: [Key: CaseEvent] = [:]
    }

    let generationSize: Int
    private let generations = Mutex(Generations())

    init(generationSize: Int) {
        precondition(generationSize > 0)
        self.generationSize = generationSize
    }

    /// The payload stored as `data` for an event of `type`, decoded by `EventCodec.decodeStored` the first time.
    func event(type: String, schemaVersion: Int, data: String) throws(CaseError) -> CaseEvent {
        try events([Key(type: type, schemaVersion: schemaVersion, data: data)])[0]
    }

    /// The payloads of many stored events (a batch's histories), in order. The lock is taken at most
    /// twice whatever their number, so that readers on many threads do not queue on it event by event.
    func events(_ keys: [Key]) throws(CaseError) -> [CaseEvent] {
        var found = generations.withLock { generations in keys.map { lookup($0, in: &generations) } }
        var decoded: [(Key, CaseEvent)] = []
        for index in found.indices where found[index] == nil {
            let key = keys[index]
            let event = try EventCodec.decodeStored(type: key.type, json: key.data, schemaVersion: key.schemaVersion)
            found[index] = event
            decoded.append((key, event))
        }
        if !decoded.isEmpty {
            generations.withLock { generations in
                for (key, event) in decoded { insert(event, for: key, into: &generations) }
            }
        }
        return found.map { $0! }
    }

    /// Entries held now, in both generations (for tests).
    var count: Int { generations.withLock { $0.current.count + $0.previous.count } }

    private func lookup(_ key: Key, in generations: inout Generations) -> CaseEvent? {
        if let event = generations.current[key] { return event }
        guard let event = generations.previous.removeValue(forKey: key) else { return nil }
        insert(event, for: key, into: &generations)
        return event
    }

    private func insert(_ event: CaseEvent, for key: Key, into generations: inout Generations) {
        if generations.current.count >= generationSize {
            generations.previous = generations.current
            generations.current = [:]
            generations.current.reserveCapacity(generationSize)
        }
        generations.current[key] = event
    }
}
