import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// The SEN2 person-level return (statutory-timescales.md §6) for a calendar year: the person, requests,
/// assessments, named-plan and active-plans modules as CSV with the DfE's item names, covering activity
/// in the year and the plans active at the January census date, plus a validation report.
///
/// Items the service does not hold (ethnicity, ULN, plan detail such as URN/UKPRN, SEN need type) are
/// written empty so the files keep the return's shape; the validation report does not flag them.
public struct SEN2Export: Sendable {
    public struct Module: Sendable, Hashable, Codable {
        public var name: String
        public var header: [String]
        public var rows: [[String?]]
        public var csv: String { CSV.render(header: header, rows: rows) }
    }

    public struct Issue: Sendable, Hashable, Codable {
        public var requesttableid: String
        public var item: String
        public var problem: String
    }

    public struct Result: Sendable, Hashable, Codable {
        public var year: Int
        public var census: CivilDate
        public var modules: [Module]
        public var validation: [Issue]
        /// Every child whose personal details the export read: each is written to the access log.
        public var children: [UUID] = []

        enum CodingKeys: String, CodingKey { case year, census, modules, validation }
    }

    public init() {}

    /// The census date: the third Thursday of January after the year (the DfE's January census day).
    public static func censusDate(after year: Int) -> CivilDate {
        let first = CivilDate(year: year + 1, month: 1, day: 1)!
        return first.adding(days: (4 - first.isoWeekday + 7) % 7 + 14)  // ISO weekday 4 = Thursday
    }

    /// SEN2 2026 `RequestSource` (item 2.2, mandatory from 2026): 1 young person or parent, 2 school or
    /// other education setting, 3 health care professionals, 4 social care professionals, 5 other.
    /// docs/sen2.md gives every code list with its source.
    static let sourceCodes: [RequestSource: String] = [
        .parent: "1", .youngPerson: "1", .school: "2", .earlyYears: "2", .health: "3", .socialCare: "4", .other: "5",
    ]

    /// SEN2 `RequestOutcome` and `AssessmentOutcome`: Y yes, N no, A not yet decided, W withdrawn or ceased
    /// before the decision.
    static func outcome(_ decided: Bool?, withdrawn: Bool) -> String {
        if let decided { return decided ? "Y" : "N" }
        return withdrawn ? "W" : "A"
    }

    /// SEN2 `ReviewOutcome`: A amend, M maintain, C cease.
    static let reviewOutcomeCodes = ["amend": "A", "maintain": "M", "cease": "C"]

    public func run(year: Int, on connection: PostgresConnection) throws(PostgresError) -> Result {
        let (start, end) = (CivilDate(year: year, month: 1, day: 1)!, CivilDate(year: year, month: 12, day: 31)!)
        let census = Self.censusDate(after: year)
        let rows = try connection.query(
            """
            SELECT s.case_id, s.child_id, c.surname, c.forename, c.born_on::text, c.sex, c.postcode, c.upn, s.opened_on::text, s.opened_by,
                   s.request_source, s.decided_on::text, s.assessed, s.first_plan_on::text, s.no_plan_on::text, s.ceased_on::text, s.ceased_reason,
                   s.request_mediation, s.request_tribunal, s.assessment_mediation, s.assessment_tribunal, s.other_mediation, s.other_tribunal,
                   s.final_20w_excepted, s.last_review_on::text, s.plan_made_on::text, s.stage, s.transferred_out_on::text,
                   (SELECT min(d.due_on)::text FROM deadlines d WHERE d.case_id = s.case_id AND d.rule IN ('R-PHASE-15FEB', 'R-PHASE-31MAR') AND d.status <> 'cancelled') AS phase_due_on,
                   (SELECT min(d.met_on)::text FROM deadlines d WHERE d.case_id = s.case_id AND d.rule IN ('R-PHASE-15FEB', 'R-PHASE-31MAR')) AS phase_met_on,
                   review.meeting_on, review.outcome

            FROM case_summary s LEFT JOIN children c ON c.child_id = s.child_id
            LEFT JOIN LATERAL (
                -- The latest review meeting on or before the census, and the decision that followed it by then.
                SELECT d.started_on::text AS meeting_on, CASE WHEN d.met_on <= $3 THEN d.review_outcome END AS outcome FROM deadlines d
                WHERE d.case_id = s.case_id AND d.rule = 'R-REVIEW-DECIDE-4W' AND d.started_on <= $3
                ORDER BY d.started_on DESC LIMIT 1
            ) review ON true
            WHERE (s.opened_on BETWEEN $1 AND $2) OR (s.decided_on BETWEEN $1 AND $2) OR (s.first_plan_on BETWEEN $1 AND $2)
               OR (s.no_plan_on BETWEEN $1 AND $2) OR (s.ceased_on BETWEEN $1 AND $2)
               OR (s.plan_made_on <= $3 AND (s.ceased_on IS NULL OR s.ceased_on > $3) AND (s.transferred_out_on IS NULL OR s.transferred_out_on > $3))
            ORDER BY s.child_id, s.opened_on, s.case_id
            """, [start.description, end.description, census.description])
        var person: [[String?]] = []
        var requests: [[String?]] = []
        var assessments: [[String?]] = []
        var named: [[String?]] = []
        var active: [[String?]] = []
        var issues: [Issue] = []
        var seenPeople = Set<String>()
        let flag = { (value: Bool) -> String in value ? "1" : "0" }
        for row in rows.rows {
            let caseId = try row.decode(UUID.self, column: "case_id").uuidString.lowercased()
            let personId = try row.decodeIfPresent(UUID.self, column: "child_id")?.uuidString.lowercased()
            let received: String = try row.decode(column: "opened_on")
            let openedBy: String = try row.decode(column: "opened_by")
            let decided: String? = try row.decodeIfPresent(column: "decided_on")
            let assessed: Bool? = try row.decodeIfPresent(column: "assessed")
            let firstPlan: String? = try row.decodeIfPresent(column: "first_plan_on")
            let noPlan: String? = try row.decodeIfPresent(column: "no_plan_on")
            let ceased: String? = try row.decodeIfPresent(column: "ceased_on")
            let reason: Int? = try row.decodeIfPresent(column: "ceased_reason")
            let planMade: String? = try row.decodeIfPresent(column: "plan_made_on")
            if let personId, seenPeople.insert(personId).inserted {
                let upn: String? = try row.decodeIfPresent(column: "upn")
                let born: String? = try row.decodeIfPresent(column: "born_on")
                person.append([
                    personId, try row.decodeIfPresent(column: "surname"), try row.decodeIfPresent(column: "forename"), born,
                    try row.decodeIfPresent(column: "sex"), nil,
                    try row.decodeIfPresent(column: "postcode"), upn, nil, upn == nil ? "UN1" : nil,
                ])
                if born == nil {
                    issues.append(Issue(requesttableid: caseId, item: "personbirthdate", problem: "missing (erased or never recorded)"))
                }
            }
            if personId == nil { issues.append(Issue(requesttableid: caseId, item: "persontableid", problem: "the case has no child record")) }
            let (yearStart, yearEnd) = (start.description, end.description)
            let inYear = [received, decided, firstPlan, noPlan].contains { $0.map { $0 >= yearStart && $0 <= yearEnd } ?? false }
            // Requests and assessments: new requests (not transfers in) with activity in the year.
            if openedBy == "RequestReceived" && inYear {
                let withdrawn = try row.decode(String.self, column: "stage") == "withdrawn"
                let source = try row.decodeIfPresent(String.self, column: "request_source").flatMap(RequestSource.init(rawValue:))
                requests.append([
                    personId, caseId, received, source.flatMap { Self.sourceCodes[$0] }, nil,
                    decided, Self.outcome(assessed, withdrawn: withdrawn),
                    flag(try row.decode(Bool.self, column: "request_mediation")), flag(try row.decode(Bool.self, column: "request_tribunal")), nil,
                ])
                if let decided, decided < received {
                    issues.append(
                        Issue(requesttableid: caseId, item: "requestoutcomedate", problem: "\(decided) is before the request (\(received))"))
                }
                if assessed == true {
                    let outcomeDate = firstPlan ?? noPlan
                    let issued: Bool? = firstPlan != nil ? true : noPlan != nil ? false : nil
                    assessments.append([
                        caseId, Self.outcome(issued, withdrawn: withdrawn), outcomeDate,
                        flag(try row.decode(Bool.self, column: "assessment_mediation")),
                        flag(try row.decode(Bool.self, column: "assessment_tribunal")), flag(try row.decode(Bool.self, column: "other_mediation")),
                        flag(try row.decode(Bool.self, column: "other_tribunal")),
                        flag(try row.decode(Bool.self, column: "final_20w_excepted")),
                    ])
                    if let outcomeDate, outcomeDate < received {
                        issues.append(
                            Issue(
                                requesttableid: caseId, item: "assessmentoutcomedate", problem: "\(outcomeDate) is before the request (\(received))"))
                    }
                }
            }
            if let firstPlan {
                named.append([caseId, firstPlan, nil, nil, nil, nil, nil, ceased, reason.map(String.init)])
                if let ceased, ceased < firstPlan {
                    issues.append(Issue(requesttableid: caseId, item: "ceasedate", problem: "\(ceased) is before the plan started (\(firstPlan))"))
                }
                if ceased != nil && reason == nil {
                    issues.append(Issue(requesttableid: caseId, item: "ceasereason", problem: "a ceased plan needs a reason 1-9"))
                }
            }
            if let planMade, planMade <= census.description, ceased.map({ $0 > census.description }) ?? true,
                try row.decodeIfPresent(String.self, column: "transferred_out_on").map({ $0 > census.description }) ?? true
            {
                let lastReview: String? = try row.decodeIfPresent(column: "last_review_on")
                let reviewOutcome = try row.decodeIfPresent(String.self, column: "outcome").flatMap { Self.reviewOutcomeCodes[$0] }
                active.append([
                    caseId, nil, try row.decodeIfPresent(column: "meeting_on"), reviewOutcome, nil, try row.decodeIfPresent(column: "phase_due_on"),
                    try row.decodeIfPresent(column: "phase_met_on"), lastReview,
                ])
            }
        }
        return Result(
            year: year, census: census,
            modules: [
                Module(
                    name: "person",
                    header: [
                        "persontableid", "surname", "forename", "personbirthdate", "sex", "ethnicity", "postcode", "upn", "uniquelearnernumber",
                        "upnunknown",
                    ], rows: person),
                Module(
                    name: "requests",
                    header: [
                        "persontableid", "requesttableid", "receiveddate", "rquestsource", "rya", "requestoutcomedate", "requestoutcome",
                        "requestmediation", "requesttribunal", "exported",
                    ], rows: requests),
                Module(
                    name: "assessments",
                    header: [
                        "requesttableid", "assessmentoutcome", "assessmentoutcomedate", "assessmentmediation", "assessmenttribunal", "othermediation",
                        "othertribunal", "week20",
                    ], rows: assessments),
                Module(
                    name: "namedplans", header: ["requesttableid", "startdate", "planres", "planwbp", "pb", "oa", "dp", "ceasedate", "ceasereason"],
                    rows: named),
                Module(
                    name: "activeplans",
                    header: [
                        "requesttableid", "transferla", "reviewmeeting", "reviewoutcome", "reviewdraft", "phasetransferduedate",
                        "phasetransferfinaldate", "lastreview",
                    ], rows: active),
            ], validation: issues, children: seenPeople.compactMap(UUID.init(uuidString:)).sorted { $0.uuidString < $1.uuidString })
    }
}
