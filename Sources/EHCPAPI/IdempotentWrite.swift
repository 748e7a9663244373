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
    /// What a write answers: a status and a JSON body (nil for 202 and 204).
    struct Reply: Sendable {
        var status: HTTPResponse.Status
        var json: String? = nil
    }

    static func run(
        _ request: Request, body: [UInt8] = [], user: AuthenticatedUser, deps: APIDependencies,
        _ write: @escaping @Sendable (PostgresConnection) throws -> Reply
    ) async throws -> Response {
        let (key, hash) = try CaseRequests.idempotency(request, body: body, user: user)
        guard let key else { return response(try await deps.inCouncil(user, write), replayed: false) }
        let (reply, replayed) = try await inCouncil(user, deps: deps) { connection -> (Reply, Bool) in
            let responses = StoredResponses()
            if let stored = try responses.stored(council: user.councilId, key: key, on: connection) {
                guard stored.requestHash == hash else { throw StoreError.idempotencyKeyReused(key: key) }
                // HTTPResponse.Status traps outside 0...999: a stored row is trusted no further than its type.
                guard (100...599).contains(stored.status) else {
                    throw PostgresError(.decoding, message: "stored response status \(stored.status) is not an HTTP status")
                }
                return (Reply(status: .init(code: stored.status), json: stored.body.isEmpty ? nil : stored.body), true)
            }
            let reply = try write(connection)
            try responses.keep(
                council: user.councilId, key: key, requestHash: hash, status: Int(reply.status.code), body: reply.json ?? "", on: connection)
            return (reply, false)
        }
        return response(reply, replayed: replayed)
    }

    /// `body` in a transaction acting for the user's council, run a second time when a concurrent request
    /// with the same Idempotency-Key committed first (`CaseWork.againIfKeyRaced`).
    static func inCouncil<T: Sendable>(
        _ user: AuthenticatedUser, deps: APIDependencies, _ body: @escaping @Sendable (PostgresConnection) throws -> T
    ) async throws -> T {
        do {
            return try await CaseWork.againIfKeyRaced { try await deps.pool.transaction(council: user.councilId, body) }
        } catch {
            throw Problem.from(error)
        }
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Reply {
        Reply(status: status, json: String(decoding: JSONOutput.bytes(value), as: UTF8.self))
    }

    private static func response(_ reply: Reply, replayed: Bool) -> Response {
        var headers: HTTPFields = [:]
        if replayed { headers[.init("Idempotent-Replayed")!] = "true" }
        guard let json = reply.json else { return Response(status: reply.status, headers: headers) }
        headers[.contentType] = "application/json"
        return Response(status: reply.status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
