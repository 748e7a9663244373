import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Every open breach, and every deadline at risk within N days, as of any date, with totals by rule,
/// team and caseworker and ageing buckets. A deadline is breached on a day when its due date has passed
/// and it was still unmet that day with no exception, and the case had not moved past it; it is at risk
/// when it is unmet and falls due within N days (an exception does not move the due date, so an excused
/// deadline is still at risk, §3). Clocks the case moved past while overdue are in a section of their
/// own, `missed`: they count against the measures, but nobody can act on them (docs/rules.md, "Statuses").
public struct BreachReport: Sendable {
    public enum Sort: String, Sendable, CaseIterable, Codable { case daysOverdue, dueOn, reference, rule, team, caseworker }

    public struct Query: Sendable, Hashable {
        public var asOf: CivilDate
        public var atRiskDays = 14
        public var rule: String?
        public var team: String?
        public var caseworker: String?
        public var sort: Sort = .daysOverdue
        public var limit = 100
        public var offset = 0
        /// The missed section covers clocks the case moved past from this day to `asOf`…
        public var missedFrom: CivilDate
        /// … and lists at most this many, the most recent first (its totals count them all).
        public var missedLimit = 100

        public init(asOf: CivilDate) {
            self.asOf = asOf
            self.missedFrom = asOf.adding(months: -12).adding(days: 1)
        }
    }

    public struct Row: Sendable, Hashable, Codable {
        public var caseId: UUID
        public var reference: String
        public var rule: String
        public var key: String?
        public var dueOn: String
        /// Days past the due date (negative: days left for a deadline at risk).
        public var daysOverdue: Int
        public var state: String  // "breached" or "atRisk"
        public var stage: String
        public var caseworker: String?
        public var team: String?
    }

    public struct Totals: Sendable, Hashable, Codable {
        public var breached = 0
        public var atRisk = 0
        public var byRule: [String: Int] = [:]
        public var byTeam: [String: Int] = [:]
        public var byCaseworker: [String: Int] = [:]
        /// Breaches by weeks overdue: "0-2", "2-4", "4-8", "8+".
        public var ageing: [String: Int] = ["0-2": 0, "2-4": 0, "4-8": 0, "8+": 0]
    }

    /// A clock the case moved past while it was overdue.
    public struct MissedRow: Sendable, Hashable, Codable {
        public var caseId: UUID
        public var reference: String
        public var rule: String
        public var key: String?
        public var dueOn: String
        /// The day the case moved past it (withdrawn, ceased, transferred out, final plan issued).
        public var missedOn: String
        /// How overdue it was that day.
        public var daysOverdue: Int
        public var stage: String
        public var caseworker: String?
        public var team: String?
    }

    public struct Missed: Sendable, Hashable, Codable {
        public var from: CivilDate
        public var to: CivilDate
        public var total = 0
        public var byRule: [String: Int] = [:]
        public var byTeam: [String: Int] = [:]
        public var byCaseworker: [String: Int] = [:]
        /// The most recently missed first, at most the query's limit.
        public var rows: [MissedRow] = []
    }

    public struct Result: Sendable, Hashable, Codable {
        public var asOf: CivilDate
        public var atRiskDays: Int
        public var rows: [Row]
        public var totals: Totals
        public var missed: Missed
    }

    public init() {}

    /// The duty rules, as an SQL array: "met after the day" reads the (rule, met_on) index once per rule.
    static let dutyRules = "'{" + RuleID.allCases.filter { $0.kind == .duty }.map(\.rawValue).joined(separator: ",") + "}'::text[]"

    /// The deadlines a report covers ($1 as of, $2 days at risk, $3–$5 filters) with their case's team
    /// and caseworker, in three parts that each read an index: those still unmet (`status = 'open'`, which
    /// carry the team and caseworker in the covering index), and those met, or moved past, only after the
    /// as-of day (a few, joined to their case for them).
    static func population(_ part: String) -> String {
        let (columns, source, condition) =
            switch part {
            case "open": ("d.team, d.caseworker", "deadlines d", "d.status = 'open'")
            case "met":
                (
                    "s.team, s.caseworker", "deadlines d JOIN case_summary s USING (case_id)",
                    "d.status IN ('met', 'metLate', 'excepted') AND d.met_on > $1::date AND d.rule = ANY(\(dutyRules))"
                )
            default: ("s.team, s.caseworker", "deadlines d JOIN case_summary s USING (case_id)", "d.moved_past_on > $1::date")
            }
        let (team, caseworker) = part == "open" ? ("d.team", "d.caseworker") : ("s.team", "s.caseworker")
        return """
            SELECT d.case_id, d.rule, d.key, d.due_on, \(columns)
            FROM \(source)
            WHERE \(condition) AND d.kind = 'duty' AND (NOT d.excepted OR d.due_on >= $1::date)
              AND d.started_on <= $1::date AND d.due_on <= $1::date + $2::int
              AND ($3::text IS NULL OR d.rule = $3) AND ($4::text IS NULL OR \(team) = $4) AND ($5::text IS NULL OR \(caseworker) = $5)
            """
    }

    public func run(_ query: Query, on connection: PostgresConnection) throws(PostgresError) -> Result {
        let parameters: [any PostgresEncodable] = [query.asOf.description, query.atRiskDays, query.rule, query.team, query.caseworker]
        // Every sort but the reference's uses the parts' own columns, so each part can stop after the page.
        let order =
            switch query.sort {
            case .daysOverdue: "due_on, case_id"
            case .dueOn: "due_on DESC, case_id"
            case .rule: "rule, due_on, case_id"
            case .team: "team NULLS LAST, due_on, case_id"
            case .caseworker: "caseworker NULLS LAST, due_on, case_id"
            case .reference: "reference, rule"
            }
        let window = query.sort == .reference ? "" : "ORDER BY \(order) LIMIT $6::int + $7::int"
        let outer = query.sort == .reference ? "s.reference, p.rule" : order.split(separator: ", ").map { "p.\($0)" }.joined(separator: ", ")
        let rows = try connection.query(
            """
            SELECT p.case_id, s.reference, p.rule, nullif(p.key, ''), p.due_on::text, $1::date - p.due_on, s.stage, p.caseworker, p.team
            FROM ((\(Self.population("open")) \(window)) UNION ALL (\(Self.population("met")) \(window))
                  UNION ALL (\(Self.population("movedPast")) \(window))) p
            JOIN case_summary s USING (case_id)
            ORDER BY \(outer), p.rule, p.key
            LIMIT $6 OFFSET $7
            """, parameters + [query.limit, query.offset]
        ).rows.map { row throws(PostgresError) in
            let overdue = try row.decode(Int.self, at: 5)
            return Row(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), rule: try row.decode(at: 2), key: try row.decodeIfPresent(at: 3),
                dueOn: try row.decode(at: 4), daysOverdue: overdue, state: overdue > 0 ? "breached" : "atRisk", stage: try row.decode(at: 6),
                caseworker: try row.decodeIfPresent(at: 7), team: try row.decodeIfPresent(at: 8))
        }
        return Result(
            asOf: query.asOf, atRiskDays: query.atRiskDays, rows: rows, totals: try totals(query, from: .counts, on: connection),
            missed: try missed(query, from: .counts, on: connection))
    }

    /// Where the totals come from: the duty counts (schema.sql, `duty_counts`), or every duty itself,
    /// which a test holds them equal to (ReportCountTests).
    enum Source { case counts, duties }

    /// The open duties the counts hold as of $1 (unmet duties started by then), with the report's filters.
    static func counted(_ table: String) -> String {
        """
        SELECT k.rule, k.due_on, k.team, k.caseworker, k.duties FROM \(table) k
        WHERE k.status = 'open' AND (NOT k.excepted OR k.due_on >= $1::date) AND k.started_on <= $1::date AND k.due_on <= $1::date + $2::int
          AND ($3::text IS NULL OR k.rule = $3) AND ($4::text IS NULL OR k.team = $4) AND ($5::text IS NULL OR k.caseworker = $5)
        """
    }

    /// Breaches and deadlines at risk, in total and by rule, team, caseworker and weeks overdue.
    func totals(_ query: Query, from source: Source, on connection: PostgresConnection) throws(PostgresError) -> Totals {
        let parameters: [any PostgresEncodable] = [query.asOf.description, query.atRiskDays, query.rule, query.team, query.caseworker]
        // Duties met or moved past after the as-of day are not in the counts, and are read from the rows.
        let later = ["met", "movedPast"].map { "(SELECT rule, due_on, team, caseworker, 1 FROM (\(Self.population($0))) l)" }
        let population =
            switch source {
            case .counts: ["(\(Self.counted("duty_counts")))", "(\(Self.counted("duty_count_changes")))"] + later
            case .duties: ["(SELECT rule, due_on, team, caseworker, 1 FROM (\(Self.population("open"))) o)"] + later
            }
        var totals = Totals()
        let grouped = try connection.query(
            """
            SELECT GROUPING(p.rule), GROUPING(p.team), GROUPING(p.caseworker), GROUPING(bucket), p.rule, p.team, p.caseworker, bucket, breached,
                   sum(p.duties)::int
            FROM (\(population.joined(separator: " UNION ALL "))) p(rule, due_on, team, caseworker, duties)
            CROSS JOIN LATERAL (SELECT $1::date - p.due_on AS overdue) o
            CROSS JOIN LATERAL (
                SELECT o.overdue > 0 AS breached,
                       CASE WHEN o.overdue <= 0 THEN NULL WHEN o.overdue <= 14 THEN '0-2' WHEN o.overdue <= 28 THEN '2-4' WHEN o.overdue <= 56 THEN '4-8' ELSE '8+' END AS bucket
            ) b
            GROUP BY GROUPING SETS ((breached), (breached, p.rule), (breached, p.team), (breached, p.caseworker), (breached, bucket))
            HAVING sum(p.duties) <> 0
            """, parameters)
        for row in grouped.rows {
            let (byRule, byTeam, byWorker, byBucket) = (
                try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2), try row.decode(Int.self, at: 3)
            )
            let breached = try row.decode(Bool.self, at: 8)
            let count = try row.decode(Int.self, at: 9)
            if byRule == 1 && byTeam == 1 && byWorker == 1 && byBucket == 1 {
                if breached { totals.breached = count } else { totals.atRisk = count }
            } else if breached && byRule == 0 {
                totals.byRule[try row.decode(String.self, at: 4)] = count
            } else if breached && byTeam == 0 {
                totals.byTeam[try row.decodeIfPresent(String.self, at: 5) ?? "(no team)"] = count
            } else if breached && byWorker == 0 {
                totals.byCaseworker[try row.decodeIfPresent(String.self, at: 6) ?? "(unassigned)"] = count
            } else if breached && byBucket == 0, let bucket = try row.decodeIfPresent(String.self, at: 7) {
                totals.ageing[bucket] = count
            }
        }
        return totals
    }

    /// Clocks missed between `missedFrom` and the as-of day, with the same rule, team and caseworker filters.
    func missed(_ query: Query, from source: Source, on connection: PostgresConnection) throws(PostgresError) -> Missed {
        var missed = Missed(from: query.missedFrom, to: query.asOf)
        // Missed duties carry their caseworker and team (as open ones do), so the list reads only the index.
        let population = """
            SELECT d.case_id, d.rule, d.key, d.due_on, d.moved_past_on, d.team, d.caseworker
            FROM deadlines d
            WHERE d.status = 'missed' AND d.moved_past_on BETWEEN $1::date AND $2::date
              AND ($3::text IS NULL OR d.rule = $3) AND ($4::text IS NULL OR d.team = $4) AND ($5::text IS NULL OR d.caseworker = $5)
            """
        let parameters: [any PostgresEncodable] = [
            query.missedFrom.description, query.asOf.description, query.rule, query.team, query.caseworker,
        ]
        missed.rows = try connection.query(
            """
            SELECT p.case_id, s.reference, p.rule, nullif(p.key, ''), p.due_on::text, p.moved_past_on::text, p.moved_past_on - p.due_on, s.stage,
                   p.caseworker, p.team
            FROM (\(population) ORDER BY d.moved_past_on DESC, d.case_id, d.rule, d.key LIMIT $6) p JOIN case_summary s USING (case_id)
            ORDER BY p.moved_past_on DESC, s.reference, p.rule, p.key
            """, parameters + [query.missedLimit]
        ).rows.map { row throws(PostgresError) in
            MissedRow(
                caseId: try row.decode(at: 0), reference: try row.decode(at: 1), rule: try row.decode(at: 2), key: try row.decodeIfPresent(at: 3),
                dueOn: try row.decode(at: 4), missedOn: try row.decode(at: 5), daysOverdue: try row.decode(at: 6), stage: try row.decode(at: 7),
                caseworker: try row.decodeIfPresent(at: 8), team: try row.decodeIfPresent(at: 9))
        }
        let counted = ["duty_counts", "duty_count_changes"].map { table in
            """
            (SELECT k.rule, k.team, k.caseworker, k.duties FROM \(table) k
             WHERE k.status = 'missed' AND k.moved_past_on BETWEEN $1::date AND $2::date
               AND ($3::text IS NULL OR k.rule = $3) AND ($4::text IS NULL OR k.team = $4) AND ($5::text IS NULL OR k.caseworker = $5))
            """
        }
        let counts =
            switch source {
            case .counts: counted.joined(separator: " UNION ALL ")
            case .duties: "SELECT rule, team, caseworker, 1 FROM (\(population)) d"
            }
        let grouped = try connection.query(
            """
            SELECT GROUPING(rule), GROUPING(team), GROUPING(caseworker), rule, team, caseworker, sum(duties)::int
            FROM (\(counts)) p(rule, team, caseworker, duties) GROUP BY GROUPING SETS ((), (rule), (team), (caseworker))
            HAVING sum(duties) <> 0
            """, parameters)
        for row in grouped.rows {
            let (byRule, byTeam, byWorker) = (try row.decode(Int.self, at: 0), try row.decode(Int.self, at: 1), try row.decode(Int.self, at: 2))
            let count = try row.decode(Int.self, at: 6)
            if byRule == 0 {
                missed.byRule[try row.decode(String.self, at: 3)] = count
            } else if byTeam == 0 {
                missed.byTeam[try row.decodeIfPresent(String.self, at: 4) ?? "(no team)"] = count
            } else if byWorker == 0 {
                missed.byCaseworker[try row.decodeIfPresent(String.self, at: 5) ?? "(unassigned)"] = count
            } else {
                missed.total = count
            }
        }
        return missed
    }
}
