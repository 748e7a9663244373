import EHCPAPI
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdAuth
import Postgres

/// Signing in and out with a name and password (scrypt, `PasswordHash`).
///
/// - The sign-in form carries a token that must equal its cookie (set with the form), so another site
///   cannot sign someone in to an account of its choosing.
/// - Failures are counted per address (20 a minute) and per account name (5 in 15 minutes, whether or
///   not the account exists). The message never says which of the name or password was wrong.
/// - Signing in always starts a new session (a fresh id, so one planted beforehand is worthless).
/// - A user with an authenticator app, or whose role the council's settings say needs one, then gives a
///   code from it (`SecondFactor`) before the session signs them in.
struct SignIn: Sendable {
    let deps: APIDependencies
    let pages: Pages
    let settings: WebSettings
    let perAddress: FailedSignIns
    let perAccount: FailedSignIns

    struct View {
        var layout: Layout
        var formToken: String
        var username: String
        var next: String
    }

    func register(on group: RouterGroup<APIContext>) {
        group.get("sign-in", use: form)
        group.post("sign-in", use: signIn)
        group.post("sign-out", use: signOut)
    }

    @Sendable func form(_ request: Request, context: APIContext) async throws -> Response {
        if context.identity != nil { return Pages.redirect("/") }
        if context.sessions.session?.awaitingSecondFactor == true { context.sessions.clearSession() }  // starting again
        return page(username: "", next: Self.next(request.uri.queryParameters["next"].map(String.init)), errors: [])
    }

    @Sendable func signIn(_ request: Request, context: APIContext) async throws -> Response {
        let form = try await WebForm.read(request, context: context, expected: request.cookies[WebSettings.signInCookie]?.value)
        let username = form.text("username") ?? ""
        let password = form["password"] ?? ""
        let next = Self.next(form["next"])
        var errors: [FieldError] = []
        if username.isEmpty { errors.append(FieldError(field: "username", message: "Enter your username")) }
        if password.isEmpty { errors.append(FieldError(field: "password", message: "Enter your password")) }
        if !errors.isEmpty { return page(username: username, next: next, errors: errors) }
        let address = context.clientAddress(forwardedFor: request.headers[values: .init("X-Forwarded-For")!])
        let account = username.lowercased()
        // The attempt is counted before the password is checked, and given back if it was right.
        if let wait = Self.attempt(account: account, address: address, perAccount: perAccount, perAddress: perAddress) {
            let minutes = max(1, Int(wait.components.seconds + 59) / 60)
            return page(
                username: username, next: next,
                errors: [
                    FieldError(
                        field: "username", message: "Too many attempts to sign in. Wait \(minutes) minute\(minutes == 1 ? "" : "s") and try again")
                ],
                status: .tooManyRequests)
        }
        let candidates = try await deps.pool.withConnection { try WebSessions().candidates(name: username, on: $0) }
        let found = try await PasswordHash.offPool { WebSessions.match(password, among: candidates) }
        guard let found else {
            deps.metrics.signInRefused(channel: "web")
            return page(username: username, next: next, errors: [FieldError(field: "username", message: "Enter a correct username and password")])
        }
        perAccount.succeeded([account])
        perAddress.succeeded([address])
        // A new session either way: signed in, or waiting for the second factor (which signs nobody in).
        let headers: HTTPFields = [.setCookie: expiredSignInCookie]
        if found.secondFactorSecret != nil {
            context.sessions.createSession(
                WebSession(found.user, formToken: WebForm.randomToken(), awaitingSecondFactor: true), expiresIn: SecondFactor.pendingLifetime)
            return Pages.redirect(
                SecondFactor.codePath + "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"), headers: headers)
        }
        if settings.twoFactorRoles.contains(found.user.role) {
            context.sessions.createSession(
                WebSession(found.user, formToken: WebForm.randomToken(), awaitingSecondFactor: true, enrolmentSecret: SecondFactor.newSecret()),
                expiresIn: SecondFactor.pendingLifetime)
            return Pages.redirect(
                SecondFactor.setUpPath + "?next=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"), headers: headers)
        }
        context.sessions.createSession(WebSession(found.user, formToken: WebForm.randomToken()), expiresIn: WebSessions.lifetime)
        return Pages.redirect(next, headers: headers)
    }

    @Sendable func signOut(_ request: Request, context: APIContext) async throws -> Response {
        _ = try await WebForm.read(request, context: context, expected: context.sessions.session?.formToken)
        context.sessions.clearSession()
        return Pages.redirect("/sign-in?signedOut=1")
    }

    private func page(username: String, next: String, errors: [FieldError], status: HTTPResponse.Status = .ok) -> Response {
        let token = WebForm.randomToken()
        let layout = Layout(title: "Sign in", session: nil, errors: errors)
        var response = pages.render("sign-in", View(layout: layout, formToken: token, username: username, next: next), status: status)
        response.headers[.setCookie] =
            Cookie(name: WebSettings.signInCookie, value: token, path: "/sign-in", secure: settings.secureCookies, httpOnly: true, sameSite: .strict)
            .description
        return response
    }

    private var expiredSignInCookie: String {
        Cookie(name: WebSettings.signInCookie, value: "", maxAge: 0, path: "/sign-in", secure: settings.secureCookies, httpOnly: true).description
    }

    /// Where to go after signing in: a path on this service only, never another site. Only the
    /// characters a page's path and query use are allowed: a tab or another control character, which
    /// browsers strip, could otherwise turn "/\t/evil.example" into "//evil.example".
    static func next(_ given: String?) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/-_.?=&%#".utf8)
        guard let given, given.hasPrefix("/"), !given.hasPrefix("//"), given.utf8.count <= 200, given.utf8.allSatisfy(allowed.contains) else {
            return "/"
        }
        return given
    }

    /// Takes an attempt from the account and from the address together: the wait when either has none left.
    static func attempt(account: String, address: String, perAccount: FailedSignIns, perAddress: FailedSignIns) -> Duration? {
        if let wait = perAccount.attempt([account]) { return wait }
        if let wait = perAddress.attempt([address]) {
            perAccount.succeeded([account])  // not tried after all
            return wait
        }
        return nil
    }
}
