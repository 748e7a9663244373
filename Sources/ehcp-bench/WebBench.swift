import ArgumentParser
import EHCPAPI
import EHCPCommandLine
import EHCPDomain
import EHCPServer
import EHCPStore
import EHCPWeb
import Foundation
import Logging
import Postgres

/// `ehcp-bench web`: the pages people wait for (my work, a case page, a search of cases, the managers'
/// reports), each timed beside the JSON API call that reads the same data, against the real server on
/// loopback, one request at a time, in the same run, with one round trip (`GET /healthz`) as the
/// baseline. With `--cases 1000000` it is issue 24's national-scale benchmark: it also prints the load
/// rate and the server's memory before and after reading the open cases ahead, as `ehcp serve` does.
struct WebBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web", abstract: "Server time of the web pages beside the matching JSON API calls.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Demo cases to load first (generated when there are fewer).")
    var cases = 2_000

    @Option(help: "Requests per page and per API call.")
    var requests = 300

    @Option(help: "Loopback port for the server.")
    var port = 18_081

    @Option(help: "Measure only the lines whose name contains this text (e.g. 'search').")
    var only: String?

    func run() async throws {
        let logger = Logger(label: "ehcp.bench")
        let resolved = try database.openMigrated(logger: logger)
        defer { resolved.close() }
        let engine = DeadlineEngine(
            calendar: try WorkingDayCalendar.englandAndWales(), settings: try database.withStoredDefaults(LocalSettings(), resolved, logger: logger))
        try database.rebuildStaleProjections(resolved, engine: engine, logger: logger)
        let setup = try await prepare(resolved)
        let pool = try PostgresPool(.init(conninfo: resolved.service, size: 8, onConnect: ApplicationRole.assume))
        defer { pool.shutdown() }
        var quiet = Logger(label: "ehcp.bench.server")
        quiet.logLevel = .warning
        let today = LondonClock.today()
        let api = APIDependencies(pool: pool, repository: CaseRepository(decider: CaseDecider(engine: engine)), today: { today })
        let (before, started) = (Self.residentMiB(), ContinuousClock.now)
        let held = try await api.cases.writer.holdOpenCases()
        print(
            "read ahead \(held) open cases in \(ContinuousClock.now - started); the server's memory \(before) MiB before, \(Self.residentMiB()) MiB after"
        )
        let (listening, ready) = AsyncStream<Void>.makeStream()
        let app = buildApplication(
            ServerConfiguration(host: "127.0.0.1", port: port), api: api, web: (try Pages(), WebSettings()), logger: quiet
        ) { ready.yield() }
        let server = Task { try await app.run() }
        defer { server.cancel() }
        for await _ in listening { break }
        // A session made as sign-in makes one (the password's scrypt is not what is measured here).
        let sessionId = WebForm.randomToken()
        let formToken = WebForm.randomToken()
        let session =
            #"{"userId":"\#(setup.userId.uuidString)","councilId":"\#(setup.council.uuidString)","name":"","role":"caseworker","formToken":"\#(formToken)"}"#
        _ = try await pool.withConnection { try WebSessions().save(id: sessionId, data: session, expiresIn: nil, on: $0) }
        let cookie = ["Cookie": "ehcp_session=\(sessionId)"]
        let bearer = ["Authorization": "Bearer \(setup.token)"]
        let managerSessionId = WebForm.randomToken()
        let managerSession =
            #"{"userId":"\#(setup.managerId.uuidString)","councilId":"\#(setup.council.uuidString)","name":"","role":"manager","formToken":"\#(formToken)"}"#
        _ = try await pool.withConnection { try WebSessions().save(id: managerSessionId, data: managerSession, expiresIn: nil, on: $0) }
        let managerCookie = ["Cookie": "ehcp_session=\(managerSessionId)"]
        let managerBearer = ["Authorization": "Bearer \(setup.managerToken)"]
        let query = setup.search.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""

        print("web benchmark: \(setup.total) cases in the database, caseworker \(setup.caseworker), \(requests) requests each, one at a time")
        print("                                         p50 ms    p95 ms    bytes")
        let http = try LoopbackHTTPClient(port: port)
        func measure(_ name: String, _ method: String, _ path: (Int) -> String, _ headers: [String: String], body: String = "", count: Int? = nil)
            throws
        {
            if let only, !name.contains(only) { return }
            var samples = Samples()
            var bytes = 0
            for n in 0..<((count ?? requests) + 20) {
                let begin = ContinuousClock.now
                let reply = try http.send(method: method, path: path(n), headers: headers, body: body)
                if n >= 20 { samples.record(ContinuousClock.now - begin) }  // the first 20 warm the caches
                guard reply.status == 200 else {
                    throw LoopbackHTTPClient.Failure(description: "\(name): HTTP \(reply.status): \(reply.body.prefix(300))")
                }
                bytes = reply.body.utf8.count
            }
            print(
                name.padding(toLength: 40, withPad: " ", startingAt: 0), format(samples.percentile(0.5) / 1e6, 2).leftPad(7),
                format(samples.percentile(0.95) / 1e6, 2).leftPad(9), String(bytes).leftPad(9))
        }
        let ids = setup.caseIds.map { $0.uuidString.lowercased() }
        try measure("baseline: one round trip (GET /healthz)", "GET", { _ in "/healthz" }, [:])
        try measure("page: my work", "GET", { _ in "/" }, cookie)
        try measure("  API: GET /v1/work-tray?days=14", "GET", { _ in "/v1/work-tray?days=14" }, bearer)
        try measure("  API: the team's work tray", "GET", { _ in "/v1/work-tray?scope=team&days=14" }, bearer)
        try measure("page: a case", "GET", { "/cases/\(ids[$0 % ids.count])" }, cookie)
        try measure("  API: GET /v1/cases/{id}", "GET", { "/v1/cases/\(ids[$0 % ids.count])" }, bearer)
        try measure(
            "page: search cases (POST /cases)", "POST", { _ in "/cases" },
            cookie.merging(["Content-Type": "application/x-www-form-urlencoded"]) { $1 },
            body: "formToken=\(formToken)&q=\(query)")
        try measure("  API: GET /v1/cases?q=…&limit=25", "GET", { _ in "/v1/cases?q=\(query)&limit=25" }, bearer)
        let names = setup.names.map { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "" }
        try measure("  API: search one child's full name", "GET", { "/v1/cases?q=\(names[$0 % names.count])&limit=25" }, bearer)
        try measure("  API: search a name nobody has", "GET", { _ in "/v1/cases?q=Zyxwvut&limit=25" }, bearer, count: 40)
        try measure("page: dashboard (figures held, < 1 min)", "GET", { _ in "/dashboard" }, managerCookie)
        // Another end date each time: every request computes the figures (nine reports and the caseload).
        try measure("page: dashboard, figures computed", "GET", { "/dashboard?to=\(today.adding(days: -$0))" }, managerCookie, count: 40)
        try measure("  API: GET /v1/reports/timeliness (K-20W)", "GET", { _ in "/v1/reports/timeliness?measure=K-20W" }, managerBearer)
        try measure(
            "  API: K-20W for a year by team", "GET", { _ in "/v1/reports/timeliness?measure=K-20W&groupBy=team" }, managerBearer, count: 40)
        try measure("page: breach report", "GET", { _ in "/reports/breaches" }, managerCookie)
        try measure("  API: GET /v1/reports/breaches", "GET", { _ in "/v1/reports/breaches" }, managerBearer)
        try measure("page: the DfE's measures (last year)", "GET", { _ in "/reports/dfe" }, managerCookie, count: 40)
        try measure("  API: GET /v1/reports/dfe", "GET", { _ in "/v1/reports/dfe?year=\(today.year - 1)" }, managerBearer, count: 40)
        try measure("  API: GET /v1/reports/tribunal-orders", "GET", { _ in "/v1/reports/tribunal-orders" }, managerBearer, count: 40)
        print("Targets: issue 20, server time under 50 ms p95 at 2,000 cases and 150 ms at 100,000;")
        print("  issue 21, the dashboard and the breach report under 150 ms p95 at 100,000.")
    }

    /// This process's resident memory (VmRSS), in MiB.
    static func residentMiB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) / 1024
    }

    struct Setup {
        var council: UUID
        var userId: UUID
        var caseworker: String
        var token: String
        var managerId: UUID
        var managerToken: String
        var caseIds: [UUID]
        var search: String
        /// Whole names of children spread over the caseload: a search that matches a few cases, not thousands.
        var names: [String]
        var total: Int
    }

    /// The demo caseload, and the demo caseworker with a token (the pages get a session of theirs).
    private func prepare(_ resolved: DatabaseOptions.Connection) async throws -> Setup {
        let owner = try PostgresPool(.init(conninfo: resolved.owner, size: 1))
        defer { owner.shutdown() }
        let council = try await owner.withConnection { try DemoSeeder.council(0, on: $0) }
        let existing = try await owner.withConnection {
            try $0.query("SELECT count(*)::int FROM case_summary WHERE council_id = $1", [council]).first!.decode(Int.self, at: 0)
        }
        if existing < cases {
            print("seeding \(cases - existing) demo cases…")
            // A caseload already there came from another seed: a new one adds to it.
            let seed = existing == 0 ? 1 : UInt64.random(in: 2...UInt64.max)
            let started = ContinuousClock.now
            try await DemoSeeder(conninfo: resolved.owner, seed: seed, asOf: LondonClock.today(), councils: 1).seed(
                cases: cases - existing, progress: false)
            let seconds = (ContinuousClock.now - started) / .seconds(1)
            let events = try await owner.withConnection { try $0.query("SELECT count(*)::int FROM events").first!.decode(Int.self, at: 0) }
            print("loaded in \(format(seconds, 1)) s: \(events) events in the database, \(format(Double(events) / seconds, 0)) events/s")
        }
        return try await owner.withConnection { connection in
            try connection.execute("VACUUM ANALYZE")
            // The caseworker holding the most cases: the fullest work tray.
            let busiest = try connection.query(
                "SELECT caseworker, max(team) FROM case_summary WHERE council_id = $1 AND caseworker IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
                [council]
            ).first!
            let caseworker: String = try busiest.decode(at: 0)
            let directory = UserDirectory()
            let user = try directory.addUser(
                name: caseworker, role: .caseworker, team: try busiest.decodeIfPresent(at: 1), council: council, on: connection)
            let ids = try connection.query(
                "SELECT case_id FROM case_summary WHERE council_id = $1 ORDER BY case_id LIMIT 500", [council]
            ).rows.map { try $0.decode(UUID.self, at: 0) }
            let surname: String = try connection.query(
                "SELECT surname FROM children WHERE council_id = $1 AND surname IS NOT NULL LIMIT 1", [council]
            )
            .first!.decode(at: 0)
            let total = try connection.query("SELECT count(*)::int FROM case_summary").first!.decode(Int.self, at: 0)
            let names = try connection.query(
                """
                SELECT c.forename || ' ' || c.surname FROM case_summary s JOIN children c USING (child_id)
                WHERE s.council_id = $1 AND c.surname IS NOT NULL ORDER BY s.case_id DESC LIMIT 200
                """, [council]
            ).rows.map { try $0.decode(String.self, at: 0) }
            let manager = try directory.addUser(name: "bench-manager", role: .manager, team: nil, council: council, on: connection)
            return Setup(
                council: council, userId: user, caseworker: caseworker,
                token: try directory.createToken(userId: user, label: "bench", validFor: 1, on: connection), managerId: manager,
                managerToken: try directory.createToken(userId: manager, label: "bench", validFor: 1, on: connection), caseIds: ids,
                search: String(surname.prefix(4)), names: names, total: total)
        }
    }
}
