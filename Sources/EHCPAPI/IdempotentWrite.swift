import EHCPStore
import Foundation
import HTTPTypes
import Hummingbird
import Postgres

/// `Idempotency-Key` for the POSTs that record no case event: subscribing a webhook, erasing a child's
/// details, marking an alert read, redriving a delivery. The change and the response it gave commit in
/// one transaction, so a replay (same key, user, method, path and body) returns that response with
/// `Idempotent-Replayed: true` and changes nothing again; the same key with a different request is 422.
/// Case events keep their keys beside the events they wrote (`EventStore.append`).
enum IdempotentWrite {
    /// A reply to keep: a status and, unless it is 202 or 204, a JSON body.
    static func reply(_ status: HTTPResponse.Status) -> KeptResponse { KeptResponse(status: Int(status.code)) }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> KeptResponse {
        KeptResponse(status: Int(status.code), body: String(decoding: JSONOutput.bytes(value), as: UTF8.self))
    }

    /// The kept reply as a response, marked `Idempotent-Replayed: true` when it is a replay.
    static func response(_ kept: KeptResponse) -> Response {
        var headers: HTTPFields = [:]
        if kept.replayed { headers[.init("Idempotent-Replayed")!] = "true" }
        let status = HTTPResponse.Status(code: kept.status)
        guard !kept.body.isEmpty else { return Response(status: status, headers: headers) }
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: kept.body)))
    }
}
