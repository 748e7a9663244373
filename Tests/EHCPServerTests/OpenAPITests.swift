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
        // Every event type the domain knows is offered in the envelope's enum.
        let schemas = document.objectValue?["components"]?.objectValue?["schemas"]?.objectValue
        let envelope = schemas?["EventEnvelope"]?.objectValue?["properties"]?.objectValue?["type"]?.objectValue?["enum"]
        #expect(envelope == .array(EventKind.allCases.map { .string($0.rawValue) }))
    }
}
