import EHCPDomain

/// Decoded event payloads by their stored text, kept by an `EventStore` for the histories it reads.
///
/// Every write folds its case's whole history, so each stored event is decoded again and again, and most
/// payloads repeat across cases: an advice request names one of a few advice types, a review one of a
/// few references, a decision to assess carries nothing. Parsing their JSON and running the payload's
/// `Decodable` was the largest single cost of the write path. A payload is immutable and its decoding
/// depends only on (type, schema version, text), so a decoded one can be reused for any event with the
/// same three.
///
/// The memory is bounded (`GenerationalCache`): payloads seen once (a breach's due date, a child's
/// request) pass through without pushing out the ones every history shares. Failures are not remembered.
final class StoredPayloads: Sendable {
    struct Key: Hashable {
        var type: String
        var schemaVersion: Int
        var data: String
    }

    private let cache: GenerationalCache<Key, CaseEvent>

    init(generationSize: Int) {
        cache = GenerationalCache(generationSize: generationSize)
    }

    /// The payload stored as `data` for an event of `type`, decoded by `EventCodec.decodeStored` the first time.
    func event(type: String, schemaVersion: Int, data: String) throws(CaseError) -> CaseEvent {
        try events([Key(type: type, schemaVersion: schemaVersion, data: data)])[0]
    }

    /// The payloads of many stored events (a batch's histories), in order. The lock is taken at most
    /// twice whatever their number, so that readers on many threads do not queue on it event by event.
    func events(_ keys: [Key]) throws(CaseError) -> [CaseEvent] {
        var found = cache.values(for: keys)
        var decoded: [(Key, CaseEvent)] = []
        for index in found.indices where found[index] == nil {
            let key = keys[index]
            let event = try EventCodec.decodeStored(type: key.type, json: key.data, schemaVersion: key.schemaVersion)
            found[index] = event
            decoded.append((key, event))
        }
        if !decoded.isEmpty { cache.insert(decoded) }
        return found.map { $0! }
    }

    /// Entries held now, in both generations (for tests).
    var count: Int { cache.count }
}
