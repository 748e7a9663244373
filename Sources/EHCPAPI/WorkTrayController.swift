import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// `GET /v1/work-tray`: what is due soon and what is overdue, for me or for my team.
struct WorkTrayController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.get("work-tray", use: tray)
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
        let items = try await deps.cases.workTray(caseworker: caseworker, team: team, days: days, today: today, council: user.councilId)
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
}
