import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import Postgres

/// `/v1/cases`: open, list and search, read, and log events on cases.
struct CasesController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.post("cases", use: open)
        group.get("cases", use: list)
        group.get("cases/:caseId", use: show)
        group.post("cases/:caseId/events", use: logEvent)
        group.post("cases/:caseId/events/:version/correction", use: correct)
        group.post("cases/:caseId/events/:version/retraction", use: retract)
    }

    /// Opens a case with `RequestReceived` or `BecameResponsible`; the child's details go to `children`.
    @Sendable func open(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.writeCases, to: "open cases")
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["event", "child", "reference"])
        guard let envelope = try body.nested("event") else { throw Problem.invalid(field: "event", value: nil, "'event' is required") }
        let (event, occurredOn) = try CaseRequests.event(envelope)
        guard event.kind == .requestReceived || event.kind == .becameResponsible else {
            throw Problem(
                .unprocessableContent, title: "Not an opening event",
                detail: "a case opens with RequestReceived or BecameResponsible; log \(event.typeName) on the case instead",
                code: "invalidField", field: "event.type", value: event.typeName)
        }
        let child = try Self.child(try body.nested("child"))
        let reference = try body.string("reference", required: false)
        if let reference, !deps.caseReferences.accepts(reference) {
            // The value is not echoed: a refused reference may be a child's name typed in the wrong box.
            throw Problem.invalid(
                field: "reference", value: nil,
                "'reference' must match the council's pattern \(deps.caseReferences) (at most \(CaseReferencePattern.maxLength) characters)")
        }
        let once = try CaseRequests.idempotency(request, body: body.bytes, user: user)
        let command = LogEvent(event, on: occurredOn, by: user.name, today: deps.today(), authority: Roles.authority(user.role))
        let opened = try await deps.cases.open(
            caseId: UUID.randomVersion4(), command: command, child: child, reference: reference, idempotency: once,
            for: deps.caller(user, context))
        let (append, replayed) = (opened.append, opened.append.replayed)
        let result = Self.recorded(opened.caseId, first: append.firstVersion, last: append.lastVersion, reference: opened.reference)
        var headers: HTTPFields = [.location: "/v1/cases/\(result.caseId.lowercased)", .eTag: CaseRequests.etag(result.version)]
        if replayed { headers[.init("Idempotent-Replayed")!] = "true" }
        return JSONOutput.response(result, status: .created, headers: headers)
    }

    static func child(_ body: RequestBody?) throws -> ChildRecord {
        guard let body else { throw Problem.invalid(field: "child", value: nil, "'child' is required: forename, surname, bornOn") }
        try body.allowOnly(["forename", "surname", "bornOn", "sex", "postcode", "upn"])
        let forename = try body.string("forename")!
        let surname = try body.string("surname")!
        for (field, value) in [("child.forename", forename), ("child.surname", surname)]
        where !ChildRecord.acceptsName(value) {
            throw Problem.invalid(field: field, value: value, "'\(field)' must be 1 to 100 characters")
        }
        return ChildRecord(
            id: UUID(), forename: forename, surname: surname, bornOn: try body.date("bornOn")!, sex: try body.string("sex", required: false),
            postcode: try body.string("postcode", required: false), upn: try body.string("upn", required: false))
    }

    static func recorded(_ caseId: UUID, first: Int, last: Int, reference: String?) -> RecordedResponse {
        RecordedResponse(
            caseId: caseId, reference: reference, firstVersion: first, version: last,
            links: ["case": "/v1/cases/\(caseId.lowercased)", "timeline": "/v1/cases/\(caseId.lowercased)/timeline"])
    }

    /// Lists and searches cases, one page at a time (cursor = the last reference of the previous page).
    @Sendable func list(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let query = request.uri.queryParameters
        let allowed: Set<String> = ["caseworker", "team", "stage", "q", "overdue", "dueWithinDays", "cursor", "limit"]
        for (name, _) in query where !allowed.contains(String(name)) {
            throw Problem.invalid(field: String(name), value: nil, "unknown query parameter; use one of: \(allowed.sorted().joined(separator: ", "))")
        }
        var filter = CaseQueries.Filter()
        filter.caseworker = query["caseworker"].map(String.init)
        filter.team = query["team"].map(String.init)
        filter.stage = try QueryValue.oneOf(query["stage"].map(String.init), field: "stage", allowed: CaseStage.allCases.map(\.rawValue))
        filter.text = query["q"].map(String.init)
        if let text = filter.text, text.count > 100 {
            throw Problem.invalid(field: "q", value: String(text.prefix(40)) + "…", "'q' must be at most 100 characters")
        }
        filter.overdue = try QueryValue.bool(query["overdue"].map(String.init), field: "overdue") ?? false
        filter.dueWithinDays = try QueryValue.int(query["dueWithinDays"].map(String.init), field: "dueWithinDays", range: 0...3_650)
        filter.limit = try QueryValue.int(query["limit"].map(String.init), field: "limit", range: 1...200) ?? 50
        if let cursor = query["cursor"] {
            guard let after = PageCursor.reference(String(cursor)) else {
                throw Problem.invalid(field: "cursor", value: String(cursor), "'cursor' must be a value returned as nextCursor")
            }
            filter.after = after
        }
        // Errors become problems in `RequestLog`, as everywhere.
        let items = try await deps.cases.list(filter, today: deps.today(), for: deps.caller(user, context))
        struct Page: Encodable {
            var cases: [CaseQueries.ListItem]
            var nextCursor: String?
        }
        let next = items.count == filter.limit ? items.last.map { PageCursor.cursor(after: $0.reference) } : nil
        return JSONOutput.response(Page(cases: items, nextCursor: next))
    }

    /// One case: summary, stage, flags and every deadline with its status and days remaining or overdue.
    @Sendable func show(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let caseId = try CaseRequests.caseId(context)
        let today = deps.today()
        guard let found = try await deps.cases.show(caseId, for: deps.caller(user, context)) else {
            throw Problem.notFound("caseId", caseId.lowercased)
        }
        let report = found.state.deadlines(deps.engine, asOf: today, childBornOn: found.child?.bornOn.flatMap(CivilDate.init(iso:)))
        let view = CaseView(caseId: caseId, reference: found.reference, state: found.state, child: found.child, report: report, today: today)
        return JSONOutput.response(view, headers: [.eTag: CaseRequests.etag(view.version)])
    }

    /// Logs one event of any type in events.md, validated by the domain.
    @Sendable func logEvent(_ request: Request, context: APIContext) async throws -> Response {
        // Who may write is settled before the body is read: an auditor's request reaches no decoder.
        let user = try context.require(Roles.writeCases, to: "log case events")
        let caseId = try CaseRequests.caseId(context)
        let body = try await RequestBody.read(request, context: context)
        let (event, occurredOn) = try CaseRequests.event(body)
        try CaseRequests.authorise(event, user: user)
        return try await record(event, on: occurredOn, caseId: caseId, body: body, request: request, context: context)
    }

    /// Corrects an earlier event's date and/or data (`EventCorrected`).
    @Sendable func correct(_ request: Request, context: APIContext) async throws -> Response {
        _ = try context.require(Roles.writeCases, to: "correct case events")
        let caseId = try CaseRequests.caseId(context)
        let target = try Self.targetVersion(context)
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["occurredOn", "data", "reason"])
        let correction = EventCorrected(
            targetVersion: target, occurredOn: try body.date("occurredOn", required: false), data: body.object["data"],
            reason: try body.string("reason")!)
        return try await record(.eventCorrected(correction), on: deps.today(), caseId: caseId, body: body, request: request, context: context)
    }

    /// Retracts an event logged in error (`EventRetracted`).
    @Sendable func retract(_ request: Request, context: APIContext) async throws -> Response {
        _ = try context.require(Roles.writeCases, to: "retract case events")
        let caseId = try CaseRequests.caseId(context)
        let target = try Self.targetVersion(context)
        let body = try await RequestBody.read(request, context: context)
        try body.allowOnly(["reason"])
        let retraction = EventRetracted(targetVersion: target, reason: try body.string("reason")!)
        return try await record(.eventRetracted(retraction), on: deps.today(), caseId: caseId, body: body, request: request, context: context)
    }

    static func targetVersion(_ context: APIContext) throws -> Int {
        let text = context.parameters.get("version") ?? ""
        guard let version = Int32(text).map(Int.init), version > 0 else {
            throw Problem.invalid(field: "version", value: text, "'version' must be an event version (1, 2, 3 … up to 2147483647)")
        }
        return version
    }

    /// Records through the batch writer: If-Match pins the version (412 when stale); without it the
    /// command is decided on the state its batch locked. A replayed Idempotency-Key returns the first response.
    private func record(
        _ event: CaseEvent, on occurredOn: CivilDate, caseId: UUID, body: RequestBody, request: Request, context: APIContext
    ) async throws -> Response {
        guard let user = context.user, let authority = Roles.authority(user.role) else { throw Problem.unauthenticated }
        let expected = try CaseRequests.expectedVersion(request)
        let once = try CaseRequests.idempotency(request, body: body.bytes, user: user)
        let outcome: CaseRepository.Outcome
        do {
            outcome = try await deps.cases.record(
                CaseCommand(
                    council: user.councilId, caseId: caseId,
                    command: LogEvent(event, on: occurredOn, by: user.name, today: deps.today(), authority: authority),
                    expectedVersion: expected, idempotency: once))
        } catch {
            throw Problem.from(error)
        }
        let result = Self.recorded(caseId, first: outcome.append.firstVersion, last: outcome.append.lastVersion, reference: nil)
        var headers: HTTPFields = [.location: "/v1/cases/\(caseId.lowercased)", .eTag: CaseRequests.etag(outcome.append.lastVersion)]
        if outcome.append.replayed { headers[.init("Idempotent-Replayed")!] = "true" }
        return JSONOutput.response(result, status: .created, headers: headers)
    }
}

extension UUID {
    var lowercased: String { postgresText! }
}
