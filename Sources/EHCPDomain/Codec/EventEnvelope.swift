/// The envelope every logged event arrives in, `{type, occurredOn, data}`, read strictly: unknown
/// members are refused, and `data` must be a valid payload of `type` (`EventCodec`, strict).
public struct EventEnvelope: Sendable, Hashable {
    public var event: CaseEvent
    public var occurredOn: CivilDate

    /// Why an envelope was refused. `field` is the member's path (e.g. `event.occurredOn`).
    public enum Refusal: Error, Sendable, Hashable {
        case unknownField(String)
        case missing(String)
        case notAString(field: String, value: String)
        case malformedDate(field: String, value: String)
        case invalidEvent(CaseError)
    }

    /// Reads an envelope from a JSON object; `path` prefixes every field named in a refusal.
    public static func decode(_ object: [String: JSONValue], path: String = "") throws(Refusal) -> EventEnvelope {
        for key in object.keys.sorted() where !["type", "occurredOn", "data"].contains(key) {
            throw .unknownField(path + key)
        }
        func string(_ name: String) throws(Refusal) -> String {
            switch object[name] {
            case .string(let text)?: return text
            case nil, .null?: throw .missing(path + name)
            case let other?: throw .notAString(field: path + name, value: other.compactDescription)
            }
        }
        let type = try string("type")
        let dateText = try string("occurredOn")
        guard let occurredOn = CivilDate(iso: dateText), CivilDate.acceptedYears.contains(occurredOn.year) else {
            throw .malformedDate(field: path + "occurredOn", value: dateText)
        }
        do {
            return EventEnvelope(event: try EventCodec.decode(type: type, data: object["data"] ?? .object([:])), occurredOn: occurredOn)
        } catch {
            throw .invalidEvent(error)
        }
    }
}
