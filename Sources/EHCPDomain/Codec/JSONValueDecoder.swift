/// Decodes `Decodable` types from a parsed `JSONValue`, for event payloads on every request and every
/// stored event (Foundation's JSONDecoder costs more to set up than these small objects cost to read).
///
/// Errors are `DecodingError`s with the coding path Foundation would give, so `EventCodec` names the
/// same field and value. It also reports which top-level members the type asked for: a member nobody
/// asked for is not a field of the type (the API's strict mode refuses it).
enum JSONValueDecoder {
    /// - Parameter recordRequests: collect the top-level member names the type asks for (strict mode);
    ///   otherwise the returned set is empty.
    static func decode<T: Decodable>(_: T.Type, from value: JSONValue, recordRequests: Bool) throws -> (value: T, requested: Set<String>) {
        let requested = recordRequests ? RequestedKeys() : nil
        let decoder = ValueDecoder(value: value, path: .root, requested: requested)
        return (try T(from: decoder), requested?.keys ?? [])
    }
}

/// Where a value sits, built only when an error or a type asks for `codingPath` (most decodes never do).
private indirect enum PathNode {
    case root
    case child(PathNode, any CodingKey)

    var codingPath: [any CodingKey] {
        var keys: [any CodingKey] = []
        var node = self
        while case .child(let parent, let key) = node {
            keys.append(key)
            node = parent
        }
        return keys.reversed()
    }

    func appending(_ key: any CodingKey) -> PathNode { .child(self, key) }
}

/// The member names a type's `init(from:)` looked up at the top level.
private final class RequestedKeys {
    var keys: Set<String> = []
}

private struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: PathNode
    /// Set only for the top-level object, in strict mode.
    let requested: RequestedKeys?
    var codingPath: [any CodingKey] { path.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy _: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw DecodingError.typeMismatch(
                [String: JSONValue].self, .init(codingPath: codingPath, debugDescription: "Expected an object but found \(value.kindName) instead."))
        }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, path: path, requested: requested))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else {
            throw DecodingError.typeMismatch(
                [JSONValue].self, .init(codingPath: codingPath, debugDescription: "Expected an array but found \(value.kindName) instead."))
        }
        return UnkeyedContainer(elements: elements, path: path)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueContainer(value: value, path: path)
    }
}

/// Reads scalars from a value, with Foundation's type-mismatch errors.
private func unbox<T: Decodable>(_ value: JSONValue, as _: T.Type, path: PathNode) throws -> T {
    func mismatch() -> DecodingError {
        .typeMismatch(
            T.self, .init(codingPath: path.codingPath, debugDescription: "Expected to decode \(T.self) but found \(value.kindName) instead."))
    }
    if T.self == JSONValue.self { return value as! T }
    if T.self == String.self {
        guard case .string(let text) = value else { throw mismatch() }
        return text as! T
    }
    if T.self == Int.self {
        guard case .number(let number) = value, number == number.rounded(), abs(number) < 9.0e15 else { throw mismatch() }
        return Int(number) as! T
    }
    if T.self == Double.self {
        guard case .number(let number) = value else { throw mismatch() }
        return number as! T
    }
    if T.self == Bool.self {
        guard case .bool(let flag) = value else { throw mismatch() }
        return flag as! T
    }
    // Any other standard scalar would come back here through `T(from:)` for ever: refuse it instead.
    if T.self is any (BinaryInteger & Decodable).Type || T.self is any (BinaryFloatingPoint & Decodable).Type { throw mismatch() }
    if case .null = value {
        throw DecodingError.valueNotFound(
            T.self, .init(codingPath: path.codingPath, debugDescription: "Expected \(T.self) value but found null instead."))
    }
    return try T(from: ValueDecoder(value: value, path: path, requested: nil))
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let path: PathNode
    let requested: RequestedKeys?
    var codingPath: [any CodingKey] { path.codingPath }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool {
        requested?.keys.insert(key.stringValue)
        return members[key.stringValue] != nil
    }

    private func member(_ key: Key) throws -> JSONValue {
        requested?.keys.insert(key.stringValue)
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key.stringValue)."))
        }
        return value
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try member(key) { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try unbox(try member(key), as: type, path: path.appending(key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        requested?.keys.insert(key.stringValue)
        guard let value = members[key.stringValue] else { return nil }
        if case .null = value { return nil }
        return try unbox(value, as: type, path: path.appending(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try ValueDecoder(value: try member(key), path: path.appending(key), requested: nil).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ValueDecoder(value: try member(key), path: path.appending(key), requested: nil).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        ValueDecoder(value: .object(members), path: path, requested: nil)
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        ValueDecoder(value: members[key.stringValue] ?? .null, path: path.appending(key), requested: nil)
    }
}

private struct IndexKey: CodingKey {
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
    let index: Int
    init(_ index: Int) { self.index = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { index = intValue }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    let path: PathNode
    var currentIndex = 0
    var codingPath: [any CodingKey] { path.codingPath }

    init(elements: [JSONValue], path: PathNode) {
        self.elements = elements
        self.path = path
    }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private mutating func next<T>(_ type: T.Type) throws -> (JSONValue, PathNode) {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(
                type, .init(codingPath: path.appending(IndexKey(currentIndex)).codingPath, debugDescription: "Unkeyed container is at end."))
        }
        defer { currentIndex += 1 }
        return (elements[currentIndex], path.appending(IndexKey(currentIndex)))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let (value, path) = try next(type)
        return try unbox(value, as: type, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let (value, path) = try next([String: JSONValue].self)
        return try ValueDecoder(value: value, path: path, requested: nil).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let (value, path) = try next([JSONValue].self)
        return try ValueDecoder(value: value, path: path, requested: nil).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        let (value, path) = try next(JSONValue.self)
        return ValueDecoder(value: value, path: path, requested: nil)
    }
}

private struct SingleValueContainer: SingleValueDecodingContainer {
    let value: JSONValue
    let path: PathNode
    var codingPath: [any CodingKey] { path.codingPath }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try unbox(value, as: type, path: path)
    }
}

extension JSONValue {
    /// What kind of value this is, for error messages.
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
