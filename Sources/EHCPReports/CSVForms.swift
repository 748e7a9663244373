import Foundation

// The CSV form of each report, shared by the API (`Accept: text/csv`) and `ehcp report`.

extension TimelinessReport.Result {
    public var csv: String {
        CSV.render(
            header: ["group", "numerator", "denominator", "percent", "target", "averageWeeks", "over52Weeks", "england"],
            rows: (rows + [total]).map {
                [
                    $0.group, String($0.numerator), String($0.denominator), $0.percent.map { String($0) }, $0.target.map { String($0) },
                    $0.averageWeeks.map { String($0) }, $0.over52Weeks.map(String.init), $0.england.map { String($0) },
                ]
            })
    }
}

extension TimelinessReport.TraceRow {
    public static func csv(_ rows: [Self]) -> String {
        CSV.render(
            header: ["caseId", "reference", "rule", "key", "startedOn", "dueOn", "metOn", "within"],
            rows: rows.map {
                [$0.caseId.uuidString.lowercased(), $0.reference, $0.rule, $0.key, $0.startedOn, $0.dueOn, $0.metOn, $0.within ? "1" : "0"]
            })
    }
}

extension BreachReport.Result {
    public var csv: String {
        CSV.render(
            header: ["reference", "rule", "key", "dueOn", "daysOverdue", "state", "stage", "caseworker", "team", "caseId"],
            rows: rows.map {
                [
                    $0.reference, $0.rule, $0.key, $0.dueOn, String($0.daysOverdue), $0.state, $0.stage, $0.caseworker, $0.team,
                    $0.caseId.uuidString.lowercased(),
                ]
            })
    }
}

extension CaseloadReport.Result {
    public var csv: String {
        CSV.render(
            header: ["count", "value"],
            rows: [
                ["requestsReceived", String(requestsReceived)], ["refused", String(refused)], ["assessed", String(assessed)],
                ["assessedNoPlan", String(assessedNoPlan)], ["plansIssued", String(plansIssued)], ["activePlans", String(activePlans)],
                ["plansCeased", String(plansCeased)], ["mediations", String(mediations)], ["appeals", String(appeals)],
            ] + ceasedByReason.sorted { $0.key < $1.key }.map { ["ceasedReason\($0.key)", String($0.value)] })
    }
}

extension SEN2Export.Result {
    public var validationCSV: String {
        CSV.render(header: ["requesttableid", "item", "problem"], rows: validation.map { [$0.requesttableid, $0.item, $0.problem] })
    }
}
