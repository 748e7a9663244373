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
        let access = context.accessRequest
        let export: Export = try await deps.inCouncil(user) { connection in
            guard let child = try ChildRecords().details(childId: childId, on: connection) else {
                throw Problem.notFound("childId", childId.lowercased)
            }
            try AccessLog().record(
                .exportChild, user: user.userId, actor: user.name, caseId: nil, childId: childId, request: access, on: connection)
            let cases = try ChildRecords().caseIds(childId: childId, on: connection).map { caseId in
                try TimelineController.build(caseId: caseId, stored: try EventStore().readStream(caseId: caseId, on: connection))
            }
            return Export(child: child, cases: cases, exportedAt: Date())
        }
        return JSONOutput.response(export, headers: [.contentDisposition: "attachment; filename=\"child-\(childId.lowercased).json\""])
    }

    /// Erases the child's personal details at the end of retention. Events and KPIs stay, now anonymous.
    @Sendable func erase(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.administer, to: "erase personal details")
        let childId = try CaseRequests.uuid(context, "childId")
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["reason"])
        let reason = try body.string("reason")!
        let access = context.accessRequest
        struct Erased: Encodable {
            var childId: UUID
            var erased: Bool
        }
        return try await IdempotentWrite.run(request, body: body.bytes, user: user, deps: deps) { connection in
            guard try ChildRecords().erase(childId: childId, on: connection) else { throw Problem.notFound("childId", childId.lowercased) }
            try AccessLog().record(
                .eraseChild, user: user.userId, actor: user.name, caseId: nil, childId: childId, request: access, reason: reason, on: connection)
            return IdempotentWrite.json(Erased(childId: childId, erased: true))
        }
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
        let entries = try await deps.inCouncil(user) { try AccessLog().entries(childId: childId, limit: limit, on: $0) }
        struct Log: Encodable { var entries: [AccessLog.Entry] }
        return JSONOutput.response(Log(entries: entries))
    }
}

/// `GET /v1/work-tray`: what is due soon and what is overdue, for me or for my team.
struct WorkTrayController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.get("work-tray", use: tray)
        group.get("me", use: me)
    }

    @Sendable func tray(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let query = request.uri.queryParameters
        let days = try QueryValue.int(query["days"].map(String.init), field: "days", range: 0...366) ?? 14
        let scope = query["scope"].map(String.init) ?? "me"
        let (caseworker, team): (String?, String?)
        switch scope {
        case "me": (caseworker, team) = (user.name, nil)
        case "team":
            guard let mine = user.team else {
                throw Problem(
                    .conflict, title: "No team", detail: "you belong to no team; ask an admin to set one, or use scope=me", code: "noTeam",
                    field: "scope", value: scope)
            }
            (caseworker, team) = (nil, mine)
        default: throw Problem.invalid(field: "scope", value: scope, "'scope' must be me or team")
        }
        let today = deps.today()
        let items = try await deps.inCouncil(user) {
            try CaseQueries().workTray(caseworker: caseworker, team: team, days: days, today: today, on: $0)
        }
        struct Tray: Encodable {
            var asOf: CivilDate
            var scope: String
            var days: Int
            var due: [CaseQueries.TrayItem]
            var breached: [CaseQueries.TrayItem]
        }
        return JSONOutput.response(
            Tray(
                asOf: today, scope: scope, days: days, due: items.filter { $0.status == "open" }, breached: items.filter { $0.status != "open" }))
    }

    @Sendable func me(_ request: Request, context: APIContext) async throws -> Response {
        guard let user = context.user else { throw Problem.unauthenticated }
        struct Me: Encodable {
            var userId: UUID
            var name: String
            var role: String
            var team: String?
            var councilId: UUID
        }
        return JSONOutput.response(Me(userId: user.userId, name: user.name, role: user.role.rawValue, team: user.team, councilId: user.councilId))
    }
}
