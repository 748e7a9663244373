import EHCPDomain
import Foundation
import Postgres

/// The `children` table: personal details kept apart from the anonymous events, so that one child's
/// record can be exported (subject access) or erased at the end of retention.
public struct ChildRecords: Sendable {
    public init() {}

    public func insert(_ child: ChildRecord, council: UUID, on connection: PostgresConnection) throws(PostgresError) {
        try connection.query(
            "INSERT INTO children (child_id, council_id, forename, surname, born_on, sex, postcode, upn) VALUES ($1, $2, $3, $4, $5::date, $6, $7, $8)",
            [child.id, council, child.forename, child.surname, child.bornOn.description, child.sex, child.postcode, child.upn])
    }

    /// A child's stored details; nil when the child is not in this council.
    public struct Details: Sendable, Hashable, Encodable {
        public var childId: UUID
        public var forename: String?
        public var surname: String?
        public var bornOn: String?
        public var sex: String?
        public var postcode: String?
        public var upn: String?
        public var erasedAt: Date?
    }

    public func details(childId: UUID, on connection: PostgresConnection) throws(PostgresError) -> Details? {
        guard
            let row = try connection.query(
                "SELECT forename, surname, born_on::text, sex, postcode, upn, erased_at FROM children WHERE child_id = $1", [childId]
            ).first
        else { return nil }
        return Details(
            childId: childId, forename: try row.decodeIfPresent(at: 0), surname: try row.decodeIfPresent(at: 1),
            bornOn: try row.decodeIfPresent(at: 2),
            sex: try row.decodeIfPresent(at: 3), postcode: try row.decodeIfPresent(at: 4), upn: try row.decodeIfPresent(at: 5),
            erasedAt: try row.decodeIfPresent(at: 6))
    }

    /// The cases that concern a child.
    public func caseIds(childId: UUID, on connection: PostgresConnection) throws(PostgresError) -> [UUID] {
        try connection.query("SELECT case_id FROM case_summary WHERE child_id = $1 ORDER BY opened_on, case_id", [childId]).rows.map {
            row throws(PostgresError) in try row.decode(UUID.self, at: 0)
        }
    }

    /// Erases every personal detail of a child; the row (and so the cases' link to it) stays, anonymous.
    /// Returns false when the child is not in this council.
    public func erase(childId: UUID, on connection: PostgresConnection) throws(PostgresError) -> Bool {
        try connection.query(
            """
            UPDATE children SET forename = NULL, surname = NULL, born_on = NULL, sex = NULL, postcode = NULL, upn = NULL,
                erased_at = coalesce(erased_at, now())
            WHERE child_id = $1
            """, [childId]
        ).affected == 1
    }
}

/// Who read or changed a child's record: every read of personal data is logged (architecture.md, Security).
public struct AccessLog: Sendable {
    public init() {}

    public enum Action: String, Sendable {
        case readCase, readTimeline, exportChild, eraseChild, openCase
        /// A page of the case list or a search: names of many children at once.
        case listCases
        /// The SEN2 return: every child in the year's modules.
        case exportSEN2
    }

    /// The request an entry belongs to: the server's id, and the client's `X-Request-Id` if it sent one.
    public struct Request: Sendable, Hashable {
        public var id: String
        public var clientId: String?
        public init(id: String, clientId: String? = nil) {
            self.id = id
            self.clientId = clientId
        }
    }

    public func record(
        _ action: Action, user: UUID, actor: String, caseId: UUID?, childId: UUID?, request: Request, reason: String? = nil,
        on connection: PostgresConnection
    ) throws(PostgresError) {
        try connection.query(
            """
            INSERT INTO access_log (council_id, user_id, actor, action, case_id, child_id, request_id, client_request_id, reason)
            VALUES (ehcp_council(), $1, $2, $3, $4, $5, $6, $7, $8)
            """,
            [user, actor, action.rawValue, caseId, childId, request.id, request.clientId, reason])
    }

    /// One entry per child behind `caseIds` (cases without a child record are skipped): a bulk read,
    /// logged in one statement.
    public func record(
        _ action: Action, user: UUID, actor: String, casesOf caseIds: [UUID], request: Request, on connection: PostgresConnection
    ) throws(PostgresError) {
        guard !caseIds.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO access_log (council_id, user_id, actor, action, case_id, child_id, request_id, client_request_id)
            SELECT ehcp_council(), $1, $2, $3, s.case_id, s.child_id, $4, $5
            FROM case_summary s WHERE s.case_id = ANY($6::uuid[]) AND s.child_id IS NOT NULL
            """,
            [user, actor, action.rawValue, request.id, request.clientId, PostgresArray(caseIds.map(\.postgresText))])
    }

    /// One entry per child in `childIds`: a bulk read of children not reached through one case each.
    public func record(
        _ action: Action, user: UUID, actor: String, children childIds: [UUID], request: Request, on connection: PostgresConnection
    ) throws(PostgresError) {
        guard !childIds.isEmpty else { return }
        try connection.query(
            """
            INSERT INTO access_log (council_id, user_id, actor, action, child_id, request_id, client_request_id)
            SELECT ehcp_council(), $1, $2, $3, c, $4, $5 FROM unnest($6::uuid[]) AS c
            """,
            [user, actor, action.rawValue, request.id, request.clientId, PostgresArray(childIds.map(\.postgresText))])
    }

    public struct Entry: Sendable, Hashable, Encodable {
        public var at: Date
        public var actor: String
        public var action: String
        public var caseId: UUID?
        public var childId: UUID?
        public var requestId: String
        public var clientRequestId: String?
        public var reason: String?
    }

    /// The most recent entries, newest first, optionally for one child.
    public func entries(childId: UUID?, limit: Int, on connection: PostgresConnection) throws(PostgresError) -> [Entry] {
        try connection.query(
            """
            SELECT at, actor, action, case_id, child_id, request_id, client_request_id, reason FROM access_log
            WHERE $1::uuid IS NULL OR child_id = $1 ORDER BY access_id DESC LIMIT $2
            """, [childId, limit]
        ).rows.map { row throws(PostgresError) in
            Entry(
                at: try row.decode(at: 0), actor: try row.decode(at: 1), action: try row.decode(at: 2), caseId: try row.decodeIfPresent(at: 3),
                childId: try row.decodeIfPresent(at: 4), requestId: try row.decode(at: 5), clientRequestId: try row.decodeIfPresent(at: 6),
                reason: try row.decodeIfPresent(at: 7))
        }
    }
}
