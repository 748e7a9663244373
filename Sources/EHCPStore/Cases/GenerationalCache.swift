import Synchronization

/// A bounded map shared between threads: two generations of at most `generationSize` entries each.
///
/// A lookup that hits the older generation promotes its entry; when the current generation is full it
/// becomes the older one and the oldest is dropped. Entries seen once pass through without pushing out
/// the ones in steady use, and memory never holds more than twice `generationSize` entries. Lookups and
/// inserts take the lock once per call, whatever the number of keys, so that writers on many threads do
/// not queue on it entry by entry.
final class GenerationalCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Generations {
        var current: [Key: Value] = [:]
        var previous: [Key: Value] = [:]
    }

    let generationSize: Int
    private let generations = Mutex(Generations())

    init(generationSize: Int) {
        precondition(generationSize > 0)
        self.generationSize = generationSize
    }

    /// The values held for `keys`, in order (nil where none is).
    func values(for keys: [Key]) -> [Value?] {
        generations.withLock { generations in keys.map { Self.lookup($0, in: &generations, size: generationSize) } }
    }

    /// Holds `entries`, replacing what was held for their keys.
    func insert<Entries: Sequence>(_ entries: Entries) where Entries.Element == (Key, Value) {
        generations.withLock { generations in
            for (key, value) in entries {
                generations.previous.removeValue(forKey: key)
                Self.insert(value, for: key, into: &generations, size: generationSize)
            }
        }
    }

    /// Drops what is held for `keys`.
    func remove(_ keys: [Key]) {
        generations.withLock { generations in
            for key in keys {
                generations.current.removeValue(forKey: key)
                generations.previous.removeValue(forKey: key)
            }
        }
    }

    /// Entries held now, in both generations (for tests).
    var count: Int { generations.withLock { $0.current.count + $0.previous.count } }

    private static func lookup(_ key: Key, in generations: inout Generations, size: Int) -> Value? {
        if let value = generations.current[key] { return value }
        guard let value = generations.previous.removeValue(forKey: key) else { return nil }
        insert(value, for: key, into: &generations, size: size)
        return value
    }

    private static func insert(_ value: Value, for key: Key, into generations: inout Generations, size: Int) {
        if generations.current[key] == nil && generations.current.count >= size {
            generations.previous = generations.current
            generations.current = [:]
            generations.current.reserveCapacity(size)
        }
        generations.current[key] = value
    }
}
