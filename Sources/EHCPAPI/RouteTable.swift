import EHCPDomain
import Hummingbird

/// The routes the OpenAPI document describes (a test keeps it equal to the router), used to answer a
/// request the router did not match: `405 Method Not Allowed` with an `Allow` header when the path
/// exists under other methods (RFC 9110 §15.5.6), `404` when it does not exist at all.
struct RouteTable: Sendable {
    /// Path templates split into segments; `nil` is a parameter (`{caseId}`), matching any one segment.
    private let routes: [(segments: [String?], methods: [String])]

    init(openAPI bytes: [UInt8]) {
        let paths = (try? JSONValue.parse(bytes))?.objectValue?["paths"]?.objectValue ?? [:]
        routes = paths.map { path, item in
            let segments = path.split(separator: "/").map { $0.hasPrefix("{") ? nil : String($0) }
            let methods = (item.objectValue ?? [:]).keys.map { $0.uppercased() }.sorted()
            return (segments, methods)
        }
    }

    static let documented = RouteTable(openAPI: OpenAPIDocument.bytes)

    /// The methods served at `path`, or an empty list when no route has that shape. As in the router, a
    /// literal segment wins over a parameter: `/v1/webhooks/dead-letter` is not `/v1/webhooks/{id}`.
    func methods(at path: String) -> [String] {
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        let matching = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { template, segment in template.map { $0 == segment } ?? true }
        }
        // Compare the literal/parameter shape segment by segment; the first literal where another has a parameter wins.
        let best = matching.map { $0.segments.map { $0 != nil } }.max { a, b in a.lexicographicallyPrecedes(b) { !$0 && $1 } }
        return matching.filter { $0.segments.map { $0 != nil } == best }.flatMap(\.methods).sorted()
    }

    /// The problem for a request no route matched.
    func unmatched(method: String, path: String) -> Problem {
        let allowed = methods(at: path)
        guard !allowed.isEmpty else {
            return Problem(
                .notFound, title: "No such route", detail: "nothing is served at \(path); the routes are listed in /v1/openapi.json",
                code: "routeNotFound", field: "path", value: path)
        }
        var problem = Problem(
            .methodNotAllowed, title: "Method not allowed",
            detail: "\(path) accepts \(allowed.joined(separator: ", ")), not \(method)", code: "methodNotAllowed", field: "method",
            value: method)
        problem.headers[.allow] = allowed.joined(separator: ", ")
        return problem
    }
}
