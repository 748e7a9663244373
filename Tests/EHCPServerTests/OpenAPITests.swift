import EHCPAPI
import EHCPDomain
import Foundation
import Testing

@Suite("The OpenAPI document")
struct OpenAPITests {
    /// `/v1/cases/:caseId` → `/v1/cases/{caseId}`.
    static func openAPIPath(_ routerPath: String) -> String {
        "/" + routerPath.split(separator: "/").map { $0.hasPrefix(":") ? "{\($0.dropFirst())}" : String($0) }.joined(separator: "/")
    }

    @Test("describes every route the router serves, with the same methods, and nothing else")
    func routesMatch() throws {
        let harness = try APIHarness()
        defer { harness.pool.shutdown() }
        let router = APIRouter.build(harness.deps)
        let served = Set(router.routes.map { "\($0.method.rawValue.uppercased()) \(Self.openAPIPath("\($0.path)"))" })
        let document = try JSONDecoder().decode(JSONValue.self, from: Data(OpenAPIDocument.bytes))
        #expect(document.objectValue?["openapi"] == .string("3.1.0"))
        let paths = document.objectValue?["paths"]?.objectValue ?? [:]
        let described = Set(paths.flatMap { path, item in (item.objectValue ?? [:]).keys.map { "\($0.uppercased()) \(path)" } })
        #expect(served.subtracting(described).isEmpty, "served but not described: \(served.subtracting(described).sorted())")
        #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
        // Every event type the domain knows has its schema in the envelope's discriminator.
        let mapping = Self.schemas?["EventEnvelope"]?.objectValue?["discriminator"]?.objectValue?["mapping"]?.objectValue ?? [:]
        #expect(Set(mapping.keys) == Set(EventKind.allCases.map(\.rawValue)))
    }

    static let schemas: [String: JSONValue]? = {
        let document = try? JSONValue.parse(OpenAPIDocument.bytes)
        return document?.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
    }()

    /// A value the schema allows: the first enum value, a date, the minimum, one array item.
    static func sample(_ schema: JSONValue) -> JSONValue {
        let object = schema.objectValue ?? [:]
        if case .array(let values)? = object["enum"], let first = values.first { return first }
        let type: String? =
            switch object["type"] {
            case .string(let type)?: type
            case .array(let types)?: types.compactMap { if case .string(let t) = $0, t != "null" { t } else { nil } }.first
            default: nil
            }
        switch type {
        case "integer"?:
            if case .number(let minimum)? = object["minimum"] { return .number(minimum) }
            return .number(1)
        case "array"?: return .array([sample(object["items"] ?? .null)])
        case "object"?: return .object([:])
        default: return object["format"] == .string("date") ? .string("2026-01-05") : .string("x1")
        }
    }

    @Test("each event type's data schema is what the domain's strict decoder accepts", arguments: EventKind.allCases)
    func eventSchema(kind: EventKind) throws {
        let envelope = try #require(Self.schemas?["Event\(kind.rawValue)"]?.objectValue)
        #expect(envelope["properties"]?.objectValue?["type"]?.objectValue?["const"] == .string(kind.rawValue))
        let data = try #require(envelope["properties"]?.objectValue?["data"]?.objectValue)
        #expect(data["additionalProperties"] == .bool(false))
        let properties = data["properties"]?.objectValue ?? [:]
        let required = (data["required"]?.arrayValue ?? []).compactMap(\.stringValue)
        let minimal = Dictionary(uniqueKeysWithValues: required.map { ($0, Self.sample(properties[$0] ?? .null)) })
        let decode = { (object: [String: JSONValue]) throws(CaseError) in _ = try EventCodec.decode(type: kind.rawValue, data: .object(object)) }

        // The required fields alone decode; every optional one may be added, or be null.
        #expect(throws: Never.self) { try decode(minimal) }
        for (name, schema) in properties where !required.contains(name) {
            #expect(throws: Never.self, "optional \(name)") { try decode(minimal.merging([name: Self.sample(schema)]) { $1 }) }
            #expect(throws: Never.self, "null \(name)") { try decode(minimal.merging([name: .null]) { $1 }) }
        }
        // Each required field is required, each enum value decodes, and nothing else is a field.
        for name in required {
            var missing = minimal
            missing[name] = nil
            #expect(throws: CaseError.self, "without \(name)") { try decode(missing) }
        }
        for (name, schema) in properties {
            for value in schema.objectValue?["enum"]?.arrayValue ?? [] where value != .null {
                #expect(throws: Never.self, "\(name) = \(value)") { try decode(minimal.merging([name: value]) { $1 }) }
            }
        }
        #expect(throws: CaseError.self) { try decode(minimal.merging(["notAField": .string("x")]) { $1 }) }
    }
}
