import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Timeliness figures from the projections (never from replaying events), with every cell traceable
/// to the cases behind it.
public struct TimelinessReport: Sendable {
    public struct Query: Sendable, Hashable {
        /// The period shown when none is given: from the first of the month a year before `to`, so that
        /// a monthly chart has twelve whole months and the current one.
        public static func defaultFrom(to: CivilDate) -> CivilDate { CivilDate(year: to.year - 1, month: to.month, day: 1) ?? to }

        public var measure: Measure
        public var from: CivilDate
        public var to: CivilDate
        public var grouping: Grouping = .month
        public var exceptions: ExceptionsPolicy = .excluded
        public var scope: Scope = .dfe

        public init(
            measure: Measure, from: CivilDate, to: CivilDate, grouping: Grouping = .month, exceptions: ExceptionsPolicy = .excluded,
            scope: Scope = .dfe
        ) {
            self.measure = measure
            self.from = from
            self.to = to
            self.grouping = grouping
            self.exceptions = exceptions
            self.scope = scope
        }
    }

    public struct Row: Sendable, Hashable, Codable {
        public var group: String
        public var numerator: Int
        public var denominator: Int
        /// 100 × numerator / denominator, one decimal place; nil when the denominator is 0.
        public var percent: Double?
        /// The configured target for the group's month (month grouping only).
        public var target: Double?
        /// K-20W: mean weeks from request to plan, and plans issued after more than 52 weeks.
        public var averageWeeks: Double?
        public var over52Weeks: Int?
        /// England's published figure for the same measure and calendar year (the month's year; the
        /// period's last year for other rows), from `EnglandFigures`; nil where none is published.
        public var england: Double?
    }

    public struct Result: Sendable, Hashable, Codable {
        public var measure: Measure
        public var from: CivilDate
        public var to: CivilDate
        public var grouping: Grouping
        public var exceptions: ExceptionsPolicy
        public var scope: Scope
        public var rows: [Row]
        public var total: Row
        /// The sources of the England figures shown.
        public var englandSources: [String] = []
    }

    public var targets: Targets
    public var england: EnglandFigures

    public init(targets: Targets = Targets(), england: EnglandFigures = .shipped) {
        self.targets = targets
        self.england = england
    }

    /// The population, the "within" test and the date of each clock, shared by figures and traces.
    ///
    /// The case's summary (and its child) are joined only when something reads them: a grouping by team,
    /// caseworker or phase, or a trace's references. At 100,000 cases the join hashed
    /// every case to keep a year's clocks, 110 of a report's 150 ms.
    static func population(_ query: Query, withCase: Bool = false) -> (from: String, within: String, date: String) {
        let date = query.measure.byDueDate ? "d.due_on" : "d.met_on"
        var conditions = ["d.rule = ANY($3::text[])", "\(date) BETWEEN $1::date AND $2::date"]
        // A met clock is never cancelled, so the measures counted by the day met read the covering index
        // alone; those counted by due date leave cancelled clocks out.
        conditions.append(query.measure.byDueDate ? "d.status <> 'cancelled'" : "d.met_on IS NOT NULL")
        if query.exceptions == .excluded { conditions.append("NOT d.excepted") }
        // K-20W: the first final plan for a new request; in the DfE's scope, with no mediation or appeal
        // about the refusal to assess or during the assessment (`k20w`, set by the projection).
        if query.measure == .final20W { conditions.append(query.scope == .dfe ? "d.k20w = 'dfe'" : "d.k20w IS NOT NULL") }
        let readsCase = withCase || [.team, .caseworker, .phase].contains(query.grouping)
        let joins = readsCase ? "JOIN case_summary s USING (case_id) LEFT JOIN children c ON c.child_id = s.child_id" : ""
        let from = """
            FROM deadlines d \(joins)
            WHERE \(conditions.joined(separator: " AND "))
            """
        return (from, "d.met_on IS NOT NULL AND d.met_on <= d.due_on", date)
    }

    /// The figures: from the clock counts (schema.sql, `clock_counts`) by month, by team or in total, and
    /// from the clocks themselves for the other groupings.
    public func run(_ query: Query, on connection: PostgresConnection) throws(PostgresError) -> Result {
        [.none, .month, .team].contains(query.grouping) ? try counted(query, on: connection) : try direct(query, on: connection)
    }

    /// Sums the clock counts, folded and not yet folded: a few thousand rows for a year however many cases
    /// the council holds. Equal to `direct` for every measure, grouping and policy (ReportCountTests).
    func counted(_ query: Query, on connection: PostgresConnection) throws(PostgresError) -> Result {
        var conditions = ["k.rule = ANY($3::text[])", "k.counted_on BETWEEN $1::date AND $2::date"]
        if query.exceptions == .excluded { conditions.append("NOT k.excepted") }
        if query.measure == .final20W && query.scope == .dfe { conditions.append("k.k20w = 'dfe'") }
        let group =
            switch query.grouping {
            case .month: "to_char(k.counted_on, 'YYYY-MM')"
            case .team: "coalesce(k.team, '(no team)')"
            default: "'all'"
            }
        let extras =
            query.measure == .final20W
            ? "sum(k.request_days)::float8 / 7 / nullif(sum(k.clocks), 0), coalesce(sum(k.over_52), 0)"
            : "NULL::float8, NULL::bigint"
        let rows = try connection.query(
            """
            SELECT \(group) AS grp, coalesce(sum(k.within), 0), coalesce(sum(k.clocks), 0), \(extras)
            FROM (SELECT * FROM clock_counts UNION ALL SELECT * FROM clock_count_changes) k
            WHERE \(conditions.joined(separator: " AND "))
            GROUP BY ROLLUP (grp) ORDER BY grp NULLS LAST
            """,
            [query.from.description, query.to.description, PostgresArray(query.measure.rules.map(\.rawValue))])
        return try result(query, rows)
    }

    /// Reads every clock of the period.
    func direct(_ query: Query, on connection: PostgresConnection) throws(PostgresError) -> Result {
        let (from, within, date) = Self.population(query)
        let group = query.grouping.expression(dateColumn: date)
        // K-20W's clock starts on the day of the request (reg 13(2)).
        let extras =
            query.measure == .final20W
            ? "sum(d.met_on - d.started_on)::float8 / 7 / nullif(count(*), 0), count(*) FILTER (WHERE d.met_on - d.started_on > 364)"
            : "NULL::float8, NULL::bigint"
        let rows = try connection.query(
            """
            SELECT \(group) AS grp, count(*) FILTER (WHERE \(within)), count(*), \(extras)
            \(from)
            GROUP BY ROLLUP (grp) ORDER BY grp NULLS LAST
            """,
            [query.from.description, query.to.description, PostgresArray(query.measure.rules.map(\.rawValue))])
        return try result(query, rows)
    }

    /// The figures' rows, with targets and England's figures beside them.
    private func result(_ query: Query, _ rows: PostgresRows) throws(PostgresError) -> Result {
        var result = Result(
            measure: query.measure, from: query.from, to: query.to, grouping: query.grouping, exceptions: query.exceptions, scope: query.scope,
            rows: [], total: Row(group: "total", numerator: 0, denominator: 0))
        for row in rows.rows {
            let label: String? = try row.decodeIfPresent(at: 0)
            let numerator = try row.decode(Int.self, at: 1)
            let denominator = try row.decode(Int.self, at: 2)
            // A group whose counts were taken away again (a clock moved to another day or team).
            if label != nil && denominator == 0 { continue }
            var entry = Row(
                group: label ?? "total", numerator: numerator, denominator: denominator,
                percent: denominator == 0 ? nil : (1000 * Double(numerator) / Double(denominator)).rounded() / 10,
                averageWeeks: try row.decodeIfPresent(Double.self, at: 3).map { ($0 * 10).rounded() / 10 },
                over52Weeks: try row.decodeIfPresent(at: 4))
            if query.grouping == .month, let label { entry.target = targets.target(query.measure, month: label) }
            let year = query.grouping == .month ? label.flatMap { Int($0.prefix(4)) } ?? query.to.year : query.to.year
            if let figure = england.figure(query.measure, exceptions: query.exceptions, year: year) {
                entry.england = figure.percent
                let source = england.source(of: figure)
                if !result.englandSources.contains(source) { result.englandSources.append(source) }
            }
            if label == nil { result.total = entry } else { result.rows.append(entry) }
        }
        return result
    }

    /// One clock behind a figure.
    public struct TraceRow: Sendable, Hashable, Codable {
        public var caseId: UUID
        public var reference: String
        public var rule: String
        public var key: String?
        public var startedOn: String
        public var dueOn: String
        public var metOn: String?
        /// Counted in the numerator (within time) as well as the denominator.
        public var within: Bool
    }

    /// The clocks behind one cell: every row of the denominator, each marked whether it is in the numerator.
    public func trace(_ query: Query, group: String?, limit: Int = 10_000, on connection: PostgresConnection) throws(PostgresError) -> [TraceRow] {
        let (from, within, date) = Self.population(query, withCase: true)
        let groupFilter = group == nil ? "" : "AND \(query.grouping.expression(dateColumn: date)) = $4"
        var parameters: [any PostgresEncodable] = [query.from.description, query.to.description, PostgresArray(query.measure.rules.map(\.rawValue))]
        if let group { parameters.append(group) }
        parameters.append(limit)
        let rows = try connection.query(
            """
            SELECT d.case_id, s.reference, d.rule, nullif(d.key, ''), d.started_on::text, d.due_on::text, d.met_on::text, \(within)
            \(from) \(groupFilter)
            ORDER BY \(date), s.reference LIMIT $\(parameters.count)
            """, parameters)
        return try rows.rows.map { row throws(PostgresError) in
            TraceRow(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), rule: try row.decode(at: 2), key: try row.decodeIfPresent(at: 3),
                startedOn: try row.decode(at: 4), dueOn: try row.decode(at: 5), metOn: try row.decodeIfPresent(at: 6), within: try row.decode(at: 7))
        }
    }
}

/// Monthly targets per measure: a trajectory of points (month → percent), read between points in a
/// straight line and held flat beyond the ends. Example (deploy/targets.json):
/// `{"K-20W": {"2025-01": 50, "2025-12": 100}}`.
public struct Targets: Sendable, Hashable, Codable {
    public var points: [String: [String: Double]]

    public init(points: [String: [String: Double]] = [:]) { self.points = points }

    public init(json: Data) throws { points = try JSONDecoder().decode([String: [String: Double]].self, from: json) }

    func target(_ measure: Measure, month: String) -> Double? {
        guard let trajectory = points[measure.rawValue], !trajectory.isEmpty, let at = Self.index(month) else { return nil }
        let sorted = trajectory.compactMap { key, value in Self.index(key).map { ($0, value) } }.sorted { $0.0 < $1.0 }
        guard let first = sorted.first, let last = sorted.last else { return nil }
        if at <= first.0 { return first.1 }
        if at >= last.0 { return last.1 }
        let upper = sorted.firstIndex { $0.0 >= at }!
        let (a, b) = (sorted[upper - 1], sorted[upper])
        return ((a.1 + (b.1 - a.1) * Double(at - a.0) / Double(b.0 - a.0)) * 10).rounded() / 10
    }

    /// "YYYY-MM" as a month count.
    static func index(_ month: String) -> Int? {
        let parts = month.split(separator: "-")
        guard parts.count == 2, let year = Int(parts[0]), (1...9999).contains(year), let number = Int(parts[1]), (1...12).contains(number) else {
            return nil
        }
        return year * 12 + number - 1
    }
}
