import Foundation
import Hummingbird
import Postgres

/// The whole HTTP surface: `/healthz`, `/readyz`, `/metrics`, the OpenAPI document, and `/v1` behind
/// bearer authentication. Every route is described in `Resources/openapi.json` (a test keeps them equal).
public enum APIRouter {
    public static func build(_ deps: APIDependencies) -> Router<APIContext> {
        let router = Router(context: APIContext.self)
        router.add(middleware: RequestLog(metrics: deps.metrics))
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            do {
                _ = try await deps.pool.withConnection { try $0.query("SELECT 1").count }
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            } catch {
                throw Problem.unavailable
            }
        }
        router.get("metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(string: deps.metrics.render())))
        }
        router.get("v1/openapi.json") { _, _ in OpenAPIDocument.response() }
        router.get("openapi.json") { _, _ in OpenAPIDocument.response() }
        let v1 = router.group("v1").add(
            middleware: Authentication(pool: deps.pool, cache: TokenCache(), failures: FailedSignIns(), metrics: deps.metrics))
        CasesController(deps: deps).register(on: v1)
        TimelineController(deps: deps).register(on: v1)
        TribunalEvidenceController(deps: deps).register(on: v1)
        WorkTrayController(deps: deps).register(on: v1)
        ChildrenController(deps: deps).register(on: v1)
        AlertsController(deps: deps).register(on: v1)
        ReportsController(deps: deps).register(on: v1)
        return router
    }
}

/// The OpenAPI 3.1 description of the API, bundled as a resource.
public enum OpenAPIDocument {
    public static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "json"), let data = try? Data(contentsOf: url) else {
            return Array(#"{"openapi":"3.1.0","info":{"title":"missing","version":"0"},"paths":{}}"#.utf8)
        }
        return Array(data)
    }()

    static func response() -> Response {
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
