import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// Subject access and erasure (UK GDPR arts. 15 and 17) for one child, and the access log that records
/// every read of a child's record.
struct ChildrenController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.get("children/:childId/export", use: export)
        group.post("children/:childId/erasure", use: erase)
        group.get("access-log", use: accessLog)
    }

    struct Export: Encodable {
        var child: ChildRecords.Details
        var cases: [TimelineController.Timeline]
        var exportedAt: Date
    }

    /// Everything held about one child: personal details and the full history of each of their cases.
    @Sendable func export(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.subjectAccess, to: "export a child's record")
        let childId = try CaseRequests.uuid(context, "childId")
        guard let record = try await deps.children.export(childId: childId, for: deps.caller(user, context)) else {
            throw Problem.notFound("childId", childId.lowercased)
        }
        let cases = try record.cases.map { try TimelineController.build(caseId: $0.caseId, stored: $0.events) }
        let export = Export(child: record.child, cases: cases, exportedAt: Date())
        return JSONOutput.response(export, headers: [.contentDisposition: "attachment; filename=\"child-\(childId.lowercased).json\""])
    }

    /// Erases the child's personal details at the end of retention. Events and KPIs stay, now anonymous.
    @Sendable func erase(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "erase personal details")
        let childId = try CaseRequests.uuid(context, "childId")
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["reason"])
        let reason = try body.string("reason")!
        struct Erased: Encodable {
            var childId: UUID
            var erased: Bool
        }
        let kept = try await deps.children.erase(
            childId: childId, reason: reason, for: deps.caller(user, context),
            once: try CaseRequests.idempotency(request, body: body.bytes, user: user)
        ) { found in
            guard found else { throw Problem.notFound("childId", childId.lowercased) }
            return IdempotentWrite.json(Erased(childId: childId, erased: true))
        }
        return IdempotentWrite.response(kept)
    }

    /// Who read which child's record (auditors and admins), newest first.
    @Sendable func accessLog(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require([.auditor, .admin], to: "read the access log")
        let childId = try request.uri.queryParameters["childId"].map { text in
            guard let id = UUID(uuidString: String(text)) else {
                throw Problem.invalid(field: "childId", value: String(text), "'childId' must be a UUID")
            }
            return id
        }
        let limit = try QueryValue.int(request.uri.queryParameters["limit"].map(String.init), field: "limit", range: 1...1000) ?? 100
        let entries = try await deps.children.accessLog(childId: childId, limit: limit, council: user.councilId)
        struct Log: Encodable { var entries: [AccessLog.Entry] }
        return JSONOutput.response(Log(entries: entries))
    }
}
