import EHCPAPI
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdAuth

/// The web pages for people, added to the API's router: the same context, so the same access log
/// (`RequestLog`), authorisation (`APIContext.require`) and store seams as the API.
///
/// Sessions are hummingbird-auth's `SessionMiddleware` over `SessionStore` (PostgreSQL), with a
/// `SessionAuthenticator` that makes the session's user the caller.
public enum WebRouter {
    public static func register(on router: Router<APIContext>, deps: APIDependencies, pages: Pages, settings: WebSettings) {
        router.get("assets/:file", use: Assets.serve)
        let sessions = SessionMiddleware<APIContext>(
            storage: SessionStore(pool: deps.pool),
            configuration: .init(
                sessionCookieParameters: .init(name: WebSettings.sessionCookie, path: "/", secure: settings.secureCookies, sameSite: .lax),
                keyPrefix: "", defaultSessionExpiration: WebSessions.lifetime))
        let web = router.group()
            .add(middleware: WebErrors(pages: pages))
            .add(middleware: sessions)
            .add(
                middleware: SessionAuthenticator<APIContext, _>(context: APIContext.self) { (session: WebSession, _) in
                    session.signsIn ? session.user : nil
                })
        // Failed passwords and failed codes count together, per account name and per address.
        let (perAddress, perAccount) = (FailedSignIns(limit: 20, window: .seconds(60)), FailedSignIns(limit: 5, window: .seconds(15 * 60)))
        SignIn(deps: deps, pages: pages, settings: settings, perAddress: perAddress, perAccount: perAccount).register(on: web)
        SecondFactor(deps: deps, pages: pages, perAddress: perAddress, perAccount: perAccount).register(on: web)
        let work = WorkPage(deps: deps, pages: pages)
        web.get("/", use: work.show)
        let cases = CasesPage(deps: deps, pages: pages)
        web.get("cases", use: cases.show)
        web.post("cases", use: cases.search)
        let open = OpenCase(deps: deps, pages: pages)
        web.get("cases/new", use: open.form)
        web.post("cases/new", use: open.submit)
        let casePage = CasePage(deps: deps, pages: pages)
        web.get("cases/:caseId", use: casePage.show)
        web.get("cases/:caseId/tribunal-evidence", use: TribunalEvidenceController(deps: deps).evidence)
        let record = RecordEvent(deps: deps, pages: pages)
        web.get("cases/:caseId/record", use: record.choose)
        web.get("cases/:caseId/record/:event", use: record.form)
        web.post("cases/:caseId/record/:event", use: record.submit)
        let change = ChangeEntry(deps: deps, pages: pages)
        web.get("cases/:caseId/events/:version/:change", use: change.form)
        web.post("cases/:caseId/events/:version/:change", use: change.submit)
        web.get("dashboard", use: DashboardPage(deps: deps, pages: pages).show)
        web.get("reports/cases", use: FigureCasesPage(deps: deps, pages: pages).show)
        web.get("reports/measure", use: MeasurePage(deps: deps, pages: pages).show)
        let sen2 = SEN2Page(deps: deps, pages: pages)
        web.get("reports/sen2", use: sen2.show)
        web.get("reports/sen2/:year/:file", use: sen2.download)
        let dfe = DfEPage(deps: deps, pages: pages)
        web.get("reports/dfe", use: dfe.show)
        web.get("reports/dfe/:year/:file", use: dfe.download)
        let orders = TribunalOrdersPage(deps: deps, pages: pages)
        web.get("reports/tribunal-orders", use: orders.show)
        web.get("reports/tribunal-orders.csv", use: orders.csv)
        let breaches = BreachesPage(deps: deps, pages: pages)
        web.get("reports/breaches", use: breaches.show)
        web.get("reports/breaches.csv", use: breaches.csv)
        let alerts = AlertsPage(deps: deps, pages: pages)
        web.get("alerts", use: alerts.show)
        web.post("alerts/:alertId/read", use: alerts.markRead)
        let undelivered = UndeliveredPage(deps: deps, pages: pages)
        web.get("alerts/undelivered", use: undelivered.show)
        web.post("alerts/undelivered/:channel/:deliveryId/redrive", use: undelivered.redrive)
        let account = AccountPage(deps: deps, pages: pages)
        web.get("account", use: account.show)
        web.post("account", use: account.save)
    }
}

/// The stylesheet and script, from the bundle, cached by browsers for a day.
enum Assets {
    static let files: [String: (type: String, bytes: [UInt8])] = {
        var files: [String: (String, [UInt8])] = [:]
        for (name, type) in [("ehcp.css", "text/css; charset=utf-8"), ("ehcp.js", "text/javascript; charset=utf-8")] {
            if let url = Bundle.module.resourceURL?.appendingPathComponent("assets/\(name)"), let data = try? Data(contentsOf: url) {
                files[name] = (type, Array(data))
            }
        }
        return files
    }()

    @Sendable static func serve(_ request: Request, context: APIContext) async throws -> Response {
        guard let file = files[context.parameters.get("file") ?? ""] else { throw Problem.notFound("file", context.parameters.get("file") ?? "") }
        return Response(
            status: .ok, headers: [.contentType: file.type, .cacheControl: "public, max-age=86400", .init("X-Content-Type-Options")!: "nosniff"],
            body: .init(byteBuffer: ByteBuffer(bytes: file.bytes)))
    }
}
