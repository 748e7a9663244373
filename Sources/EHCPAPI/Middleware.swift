import EHCPStore
import Foundation
import Hummingbird
import Logging
import Postgres
import Synchronization

/// Logs every request with its id, actor, route, status and duration; counts it for `/metrics`; turns
/// every error into a problem response (so nothing escapes as an unexplained 500); and says, in
/// `X-Data-As-Of`, how current the data was when a report read it from a standby (`ReplicaReads`).
struct RequestLog: RouterMiddleware {
    typealias Context = APIContext
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        if let given = request.headers[.init("X-Request-Id")!], given.utf8.count <= 64, !given.isEmpty {
            context.clientRequestId = given
        }
        var response: Response
        let freshness = DataAsOf()
        do {
            // A NUL can reach no column: refuse it in the path or query before any handler sees it.
            if request.uri.description.utf8.containsNUL {
                throw Problem.invalid(field: "uri", value: nil, "the URL contains a NUL character (%00)")
            }
            response = try await DataAsOf.$current.withValue(freshness) { [context] in try await next(request, context) }
        } catch let error as HTTPError where error.status == .notFound && context.matchedNoRoute {
            // The router matched no route: 405 with `Allow` when the path exists under other methods.
            response = try RouteTable.documented.unmatched(method: request.method.rawValue, path: request.uri.path)
                .response(from: request, context: context)
        } catch {
            let problem = Problem.from(error)
            if problem.status.code >= 500 {
                context.logger.error(
                    "request failed", metadata: Self.metadata(context).merging(["error": "\(problem.cause ?? String(reflecting: error))"]) { $1 })
            }
            response = try problem.response(from: request, context: context)
        }
        response.headers[.init("X-Request-Id")!] = context.requestId
        if let asOf = freshness.value { response.headers[.init("X-Data-As-Of")!] = asOf.formatted(.iso8601) }
        let elapsed = ContinuousClock.now - started
        let route = context.matchedNoRoute ? "unmatched" : context.endpointPath ?? "unmatched"
        metrics.observe(method: request.method.rawValue, route: route, status: Int(response.status.code), duration: elapsed)
        context.logger.info(
            "\(request.method) \(request.uri.path) \(response.status.code)",
            metadata: Self.metadata(context).merging(["route": "\(route)", "ms": "\(Int(elapsed.seconds * 1000))"]) { $1 })
        return response
    }

    /// Who and which request, given with each log line rather than set on the logger: setting logger
    /// metadata re-renders all of it at once in swift-log's stream handler (3% of the CPU under load).
    static func metadata(_ context: APIContext) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["request": "\(context.requestId)", "actor": "\(context.actor.value?.name ?? "-")"]
        if let client = context.clientRequestId { metadata["clientRequest"] = "\(client)" }
        if let council = context.actor.value?.council { metadata["council"] = "\(council.lowercased)" }
        return metadata
    }
}

extension Sequence<UInt8> {
    /// Whether the bytes hold `%00` (a percent-encoded NUL). A plain loop: the generic `firstRange(of:)`
    /// of _StringProcessing cost 2% of all CPU under load when run on every request's URI.
    var containsNUL: Bool {
        var matched = 0
        for byte in self {
            switch (matched, byte) {
            case (_, UInt8(ascii: "%")): matched = 1
            case (1, UInt8(ascii: "0")): matched = 2
            case (2, UInt8(ascii: "0")): return true
            default: matched = 0
            }
        }
        return false
    }
}

extension APIContext {
    /// Whether the router found no route for the request (Hummingbird marks its not-found responder's path).
    var matchedNoRoute: Bool { endpointPath.map { $0 == "NotFound" } ?? true }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
