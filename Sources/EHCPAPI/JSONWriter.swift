import EHCPDomain
import Foundation

/// Writes API responses as JSON: keys sorted, UUIDs in lower case (as the URLs spell them, so an id read
/// from a body can be pasted into a path unchanged), instants in ISO 8601 (`2026-11-23T09:30:00Z`),
/// `CivilDate` as `YYYY-MM-DD` (its own `Codable`), absent optionals left out, slashes not escaped.
enum JSONWriter {
    /// The JSON tree of `value`.
    static func value(_ value: some Encodable) throws -> JSONValue {
        let slot = Slot()
        try slot.encode(value, path: [])
        return slot.json
    }

    /// Compact UTF-8 text of `value`, keys sorted.
    static func bytes(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(value, to: &out)
        return out
    }

    private static func write(_ value: JSONValue, to out: inout [UInt8]) {
        switch value {
        case .null: out += Array("null".utf8)
        case .bool(let flag): out += Array((flag ? "true" : "false").utf8)
        case .number(let number): out += Array(render(number).utf8)
        case .string(let text): writeString(text, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(item, to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                write(members[key]!, to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Whole numbers without a fraction (ids, counts, versions); others in Swift's shortest form.
    static func render(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == number.rounded(), abs(number) < 9_007_199_254_740_992 { return String(Int64(number)) }
        return String(number)
    }

    private static func writeString(_ text: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): out += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: out += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: out += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: out += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                out += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// One value being encoded: empty, a finished value, or an object or array still being filled.
private final class Slot {
    enum Content {
        case empty
        case value(JSONValue)
        case object(Members)
        case array(Items)
    }

    final class Members { var values: [String: Slot] = [:] }
    final class Items { var values: [Slot] = [] }

    var content = Content.empty

    var json: JSONValue {
        switch content {
        case .empty: .object([:])
        case .value(let value): value
        case .object(let members): .object(members.values.mapValues(\.json))
        case .array(let items): .array(items.values.map(\.json))
        }
    }

    func encode(_ value: some Encodable, path: [any CodingKey]) throws {
        switch value {
        case let uuid as UUID: content = .value(.string(uuid.lowercased))
        case let date as Date: content = .value(.string(date.formatted(.iso8601)))
        case let json as JSONValue: content = .value(json)
        case let text as String: content = .value(.string(text))
        default: try value.encode(to: SlotEncoder(slot: self, codingPath: path))
        }
    }

    func members() -> Members {
        if case .object(let members) = content { return members }
        let members = Members()
        content = .object(members)
        return members
    }

    func items() -> Items {
        if case .array(let items) = content { return items }
        let items = Items()
        content = .array(items)
        return items
    }
}

private struct SlotEncoder: Encoder {
    let slot: Slot
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedSlots<Key>(members: slot.members(), codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedSlots(items: slot.items(), codingPath: codingPath) }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleSlot(slot: slot, codingPath: codingPath) }
}

private struct KeyedSlots<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let members: Slot.Members
    var codingPath: [any CodingKey]

    private func slot(_ key: Key) -> Slot {
        let slot = Slot()
        members.values[key.stringValue] = slot
        return slot
    }

    mutating func encodeNil(forKey key: Key) throws { slot(key).content = .value(.null) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { slot(key).content = .value(.bool(value)) }
    mutating func encode(_ value: String, forKey key: Key) throws { slot(key).content = .value(.string(value)) }
    mutating func encode(_ value: Double, forKey key: Key) throws { slot(key).content = .value(.number(value)) }
    mutating func encode(_ value: Float, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int8, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int16, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int32, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int64, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt8, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt16, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt32, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt64, forKey key: Key) throws { slot(key).content = .value(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { try slot(key).encode(value, path: codingPath + [key]) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedSlots<NestedKey>(members: slot(key).members(), codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        UnkeyedSlots(items: slot(key).items(), codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { SlotEncoder(slot: slot(Key(stringValue: "super")!), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { SlotEncoder(slot: slot(key), codingPath: codingPath + [key]) }
}

private struct UnkeyedSlots: UnkeyedEncodingContainer {
    let items: Slot.Items
    var codingPath: [any CodingKey]
    var count: Int { items.values.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "Index \(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    private func next() -> Slot {
        let slot = Slot()
        items.values.append(slot)
        return slot
    }

    mutating func encodeNil() throws { next().content = .value(.null) }
    mutating func encode(_ value: Bool) throws { next().content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { next().content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { next().content = .value(.number(value)) }
    mutating func encode(_ value: Float) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int8) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int16) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int32) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int64) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt8) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt16) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt32) throws { next().content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt64) throws { next().content = .value(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws {
        let path = codingPath + [Index(count)]
        try next().encode(value, path: path)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [Index(count)]
        return KeyedEncodingContainer(KeyedSlots<NestedKey>(members: next().members(), codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [Index(count)]
        return UnkeyedSlots(items: next().items(), codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let path = codingPath + [Index(count)]
        return SlotEncoder(slot: next(), codingPath: path)
    }
}

private struct SingleSlot: SingleValueEncodingContainer {
    let slot: Slot
    var codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.content = .value(.null) }
    mutating func encode(_ value: Bool) throws { slot.content = .value(.bool(value)) }
    mutating func encode(_ value: String) throws { slot.content = .value(.string(value)) }
    mutating func encode(_ value: Double) throws { slot.content = .value(.number(value)) }
    mutating func encode(_ value: Float) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int8) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int16) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int32) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: Int64) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt8) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt16) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt32) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode(_ value: UInt64) throws { slot.content = .value(.number(Double(value))) }
    mutating func encode<T: Encodable>(_ value: T) throws { try slot.encode(value, path: codingPath) }
}
