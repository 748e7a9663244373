import Foundation
import Hummingbird
import Postgres

/// `/healthz` (the process is up) and `/readyz` (it can reach its database).
struct HealthController: Sendable {
    let pool: PostgresPool

    func register(on router: Router<BasicRequestContext>) {
        router.get("healthz") { _, _ in "ok\n" }
        router.get("readyz") { _, _ -> Response in
            do {
                _ = try await pool.withConnection { try $0.query("SELECT 1").count }
                return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
            } catch {
                return Response(
                    status: .serviceUnavailable,
                    headers: [.contentType: "application/problem+json"],
                    body: .init(byteBuffer: ByteBuffer(string: #"{"type":"about:blank","title":"Database unavailable","status":503}"#)))
            }
        }
    }
}
