import EHCPDomain
import Foundation
import Postgres

/// Read-side queries over the case projections, for lists, searches and work trays. They run inside a
/// council transaction (row-level security scopes every row) and never replay events.
public struct CaseQueries: Sendable {
    /// A search first walks this many cases in reference order: a common name fills a page within them.
    let walked: Int
    /// Past this many cases named by a search, the list walks every case in reference order instead.
    let fewMatches: Int

    public init() { self.init(walked: 2_000, fewMatches: 5_000) }

    init(walked: Int, fewMatches: Int) { (self.walked, self.fewMatches) = (walked, fewMatches) }

    /// What a case list may be narrowed by. All filters combine with AND.
    public struct Filter: Sendable, Hashable {
        public var caseworker: String?
        public var team: String?
        public var stage: String?
        /// A reference prefix or part of the child's name (case-insensitive).
        public var text: String?
        /// Only cases with an unmet duty deadline already past.
        public var overdue = false
        /// Only cases whose next unmet duty deadline falls within this many days (overdue ones included).
        public var dueWithinDays: Int?
        /// Continue after this reference (the cursor of the previous page).
        public var after: String?
        public var limit = 50

        public init() {}
    }

    public struct ListItem: Sendable, Hashable, Encodable {
        public var caseId: UUID
        public var reference: String
        public var stage: String
        public var caseworker: String?
        public var team: String?
        public var openedOn: String
        public var nextDueOn: String?
        public var childName: String?
        public var version: Int
    }

    /// Cases in reference order, narrowed by `filter`. A search never reads every case of the council:
    /// it walks the first `walked` cases in reference order, which fills a page for a common name or
    /// "EHC-2025". When a quarter of a page or more matched there, walking on fills the page within a
    /// few times as many cases. Otherwise it asks the name and reference indexes for the cases the text
    /// names (`ehcp_search_cases`, migration 12), which are then few: a child's name, a name nobody has.
    public func list(_ filter: Filter, today: CivilDate, on connection: PostgresConnection) throws(PostgresError) -> [ListItem] {
        guard let text = filter.text else { return try page(filter, today: today, on: connection) }
        let pattern = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_")
        let first = try page(filter, pattern: pattern, walking: walked, today: today, on: connection)
        if first.count == filter.limit { return first }
        // The trigram index reads three letters at a time: a shorter text cannot narrow it.
        if text.count >= 3, first.count * 4 < filter.limit, let named = try named(pattern, on: connection) {
            return try page(filter, pattern: pattern, only: named, today: today, on: connection)
        }
        // Walk on after the last match among the first cases: they hold every match up to it.
        var rest = filter
        rest.after = first.last?.reference ?? filter.after
        rest.limit = filter.limit - first.count
        return first + (try page(rest, pattern: pattern, today: today, on: connection))
    }

    /// The cases `ehcp_search_cases` names for `pattern`, or nil when either index names more than
    /// `fewMatches` (a walk is then cheaper).
    private func named(_ pattern: String, on connection: PostgresConnection) throws(PostgresError) -> [String]? {
        guard
            let row = try connection.query(
                "SELECT named, referenced, array_to_string(case_ids, ',') FROM ehcp_search_cases($1, $2)", [pattern, fewMatches + 1]
            ).first,
            try row.decode(Int.self, at: 0) <= fewMatches, try row.decode(Int.self, at: 1) <= fewMatches
        else { return nil }
        return try row.decode(String.self, at: 2).split(separator: ",").map(String.init)
    }

    /// One page of the list: every case, the first `walking` cases in reference order, or the cases `only`
    /// names, each narrowed by the filter and the text.
    private func page(
        _ filter: Filter, pattern: String? = nil, walking: Int? = nil, only: [String]? = nil, today: CivilDate, on connection: PostgresConnection
    ) throws(PostgresError) -> [ListItem] {
        let conditions = """
            ($1::text IS NULL OR s.caseworker = $1)
              AND ($2::text IS NULL OR s.team = $2)
              AND ($3::text IS NULL OR s.stage = $3)
              AND (NOT $5 OR s.next_due_on < $6::date)
              AND ($7::int IS NULL OR s.next_due_on <= $6::date + $7::int)
              AND ($8::text IS NULL OR s.reference > $8)
            """
        var parameters: [any PostgresEncodable] = [
            filter.caseworker, filter.team, filter.stage, pattern, filter.overdue, today.description, filter.dueWithinDays, filter.after,
            filter.limit,
        ]
        var source = "(SELECT * FROM case_summary s WHERE \(conditions)) s"
        var matching = "$4::text IS NULL OR upper(s.reference) LIKE upper($4) || '%' OR ehcp_child_name(c.forename, c.surname) ILIKE '%' || $4 || '%'"
        if let walking {
            source = "(SELECT * FROM case_summary s WHERE \(conditions) ORDER BY s.reference LIMIT $10) s"
            parameters.append(walking)
        } else if let only {
            // The cases named are the matches: the page is cut before the children are read.
            source = "(SELECT * FROM case_summary s WHERE s.case_id = ANY($10::uuid[]) AND \(conditions) ORDER BY s.reference LIMIT $9) s"
            matching = "$4::text IS NOT NULL"
            parameters.append(PostgresArray(only))
        }
        let rows = try connection.query(
            """
            SELECT s.case_id, s.reference, s.stage, s.caseworker, s.team, s.opened_on::text, s.next_due_on::text,
                   nullif(ehcp_child_name(c.forename, c.surname), ''), s.version
            FROM \(source) LEFT JOIN children c ON c.child_id = s.child_id
            WHERE \(matching)
            ORDER BY s.reference
            LIMIT $9
            """, parameters)
        return try rows.rows.map { row throws(PostgresError) in
            ListItem(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), stage: try row.decode(at: 2),
                caseworker: try row.decodeIfPresent(at: 3),
                team: try row.decodeIfPresent(at: 4), openedOn: try row.decode(at: 5), nextDueOn: try row.decodeIfPresent(at: 6),
                childName: try row.decodeIfPresent(at: 7), version: try row.decode(at: 8))
        }
    }

    /// The projected header of one case: reference and child (nil when the case is not in this council).
    public func header(caseId: UUID, on connection: PostgresConnection) throws(PostgresError) -> (reference: String, childId: UUID?)? {
        guard let row = try connection.query("SELECT reference, child_id FROM case_summary WHERE case_id = $1", [caseId]).first else { return nil }
        return (try row.decode(at: 0), try row.decodeIfPresent(at: 1))
    }

    public struct TrayItem: Sendable, Hashable, Encodable {
        public var caseId: UUID
        public var reference: String
        public var stage: String
        public var rule: String
        public var key: String?
        public var dueOn: String
        public var status: String
        /// Days until the due date (negative when overdue).
        public var daysRemaining: Int
        public var caseworker: String?
        public var team: String?
    }

    /// The duties someone can still act on, due within `days` (overdue ones included), for one caseworker
    /// or one team. Missed clocks (the case moved past them) are stored as `missed`, never `open`, so
    /// they are not here.
    public func workTray(
        caseworker: String?, team: String?, days: Int, today: CivilDate, limit: Int = 500, on connection: PostgresConnection
    ) throws(PostgresError) -> [TrayItem] {
        let rows = try connection.query(
            """
            SELECT d.case_id, s.reference, s.stage, d.rule, nullif(d.key, ''), d.due_on::text,
                   ehcp_deadline_status(d.status, d.kind, d.due_on, d.excepted, $1::date), d.due_on - $1::date, s.caseworker, s.team
            FROM deadlines d JOIN case_summary s USING (case_id)
            WHERE d.status = 'open' AND d.kind = 'duty' AND d.due_on <= $1::date + $2::int
              AND ($3::text IS NULL OR d.caseworker = $3) AND ($4::text IS NULL OR d.team = $4)
            ORDER BY d.due_on, s.reference, d.rule
            LIMIT $5
            """,
            [today.description, days, caseworker, team, limit])
        return try rows.rows.map { row throws(PostgresError) in
            TrayItem(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), stage: try row.decode(at: 2), rule: try row.decode(at: 3),
                key: try row.decodeIfPresent(at: 4), dueOn: try row.decode(at: 5), status: try row.decode(at: 6),
                daysRemaining: try row.decode(at: 7),
                caseworker: try row.decodeIfPresent(at: 8), team: try row.decodeIfPresent(at: 9))
        }
    }
}
