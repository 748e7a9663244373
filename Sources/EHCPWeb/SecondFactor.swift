import EHCPAPI
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdAuth
import HummingbirdOTP

/// The second factor of sign-in: a 6-digit code from an authenticator app (TOTP, RFC 6238, computed by
/// HummingbirdOTP). A council requires it for roles in its settings file (`twoFactorRoles`); anyone who
/// has set up an app is asked for it whatever their role.
///
/// After the password, the session waits (`WebSession.awaitingSecondFactor`) and signs nobody in for
/// up to 5 minutes. A right code replaces it with a new, signed-in session. Setting up shows the secret
/// as a QR code drawn on the server (`QRCode`) and as text, and the first right code stores it
/// (`ehcp_totp_enrol`, only for the user of that session). Each code signs in once (`ehcp_totp_use`
/// keeps the last time step spent). Attempts count against the account and the address before the code
/// is checked, as passwords do.
///
/// Whoever first gives the password of a user whose role needs a second factor sets up the app: a
/// council that requires it should have people sign in soon after their password is set, and
/// `ehcp users list` shows who has set one up.
struct SecondFactor: Sendable {
    let deps: APIDependencies
    let pages: Pages
    let perAddress: FailedSignIns
    let perAccount: FailedSignIns

    static let codePath = "/sign-in/code"
    static let setUpPath = "/sign-in/set-up-code"
    static let pendingLifetime = Duration.seconds(5 * 60)

    struct View {
        var layout: Layout
        var action: String
        var next: String
        var setUp: Bool
        var qrCode: String?
        var key: String?
    }

    func register(on group: RouterGroup<APIContext>) {
        group.get(RouterPath(stringLiteral: String(Self.codePath.dropFirst())), use: form)
        group.post(RouterPath(stringLiteral: String(Self.codePath.dropFirst())), use: submit)
        group.get(RouterPath(stringLiteral: String(Self.setUpPath.dropFirst())), use: form)
        group.post(RouterPath(stringLiteral: String(Self.setUpPath.dropFirst())), use: submit)
    }

    /// 32 letters and digits of base 32 (160 random bits): the shared secret's text, whose bytes are the key.
    static func newSecret() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var generator = SystemRandomNumberGenerator()
        return String((0..<32).map { _ in alphabet.randomElement(using: &generator)! })
    }

    @Sendable func form(_ request: Request, context: APIContext) async throws -> Response {
        guard let session = context.sessions.session, session.awaitingSecondFactor == true else { return Pages.redirect("/sign-in") }
        return page(session, next: SignIn.next(request.uri.queryParameters["next"].map(String.init)), errors: [], status: .ok)
    }

    @Sendable func submit(_ request: Request, context: APIContext) async throws -> Response {
        guard let session = context.sessions.session, session.awaitingSecondFactor == true else { return Pages.redirect("/sign-in") }
        let form = try await WebForm.read(request, context: context, expected: session.formToken)
        let next = SignIn.next(form["next"])
        let address = context.clientAddress(forwardedFor: request.headers[values: .init("X-Forwarded-For")!])
        let account = session.name.lowercased()
        let code = (form.text("code") ?? "").filter { !$0.isWhitespace }
        guard code.count == 6, code.allSatisfy(\.isASCII), code.allSatisfy(\.isNumber) else {
            return page(
                session, next: next, errors: [FieldError(field: "code", message: "Enter the 6-digit code from your authenticator app")],
                status: .unprocessableContent)
        }
        // Counted before the code is checked, so that codes sent together cannot all be tried.
        if SignIn.attempt(account: account, address: address, perAccount: perAccount, perAddress: perAddress) != nil {
            return page(
                session, next: next, errors: [FieldError(field: "code", message: "Too many attempts. Wait 15 minutes and sign in again")],
                status: .tooManyRequests)
        }
        guard let sessionId = request.cookies[WebSettings.sessionCookie].map({ String($0.value) }) else { return Pages.redirect("/sign-in") }
        let secret: String?
        if let enrolling = session.enrolmentSecret {
            secret = enrolling
        } else {
            secret = try await deps.pool.withConnection { try WebSessions().candidates(name: session.name, on: $0) }
                .first { $0.user.userId == session.userId }?.secondFactorSecret
        }
        let step = secret.flatMap { Self.step(of: code, secret: $0) }
        let spent: Bool
        if let secret, let step {
            spent = try await deps.pool.withConnection { connection in
                session.enrolmentSecret != nil
                    ? try WebSessions().enrolSecondFactor(sessionId: sessionId, secret: secret, step: step, on: connection)
                    : try WebSessions().useSecondFactorStep(sessionId: sessionId, step: step, on: connection)
            }
        } else {
            spent = false
        }
        guard spent else {
            deps.metrics.signInRefused(channel: "web")
            return page(
                session, next: next, errors: [FieldError(field: "code", message: "The code is not right. Enter the newest code from your app")],
                status: .unprocessableContent)
        }
        perAccount.succeeded([account])
        perAddress.succeeded([address])
        context.sessions.createSession(WebSession(session.user, formToken: WebForm.randomToken()), expiresIn: WebSessions.lifetime)
        return Pages.redirect(next)
    }

    /// The 30-second time step whose code this is: now's, or one either side (a phone's clock is rarely
    /// exact); nil when none matches.
    static func step(of code: String, secret: String, at now: Date = Date()) -> Int64? {
        let totp = TOTP(secret: secret)
        let current = Int64(now.timeIntervalSince1970) / 30
        return [current, current - 1, current + 1].first { step in
            String(format: "%06d", totp.compute(date: Date(timeIntervalSince1970: TimeInterval(step * 30)))) == code
        }
    }

    private func page(_ session: WebSession, next: String, errors: [FieldError], status: HTTPResponse.Status) -> Response {
        let setUp = session.enrolmentSecret != nil
        var qrCode: String?
        var key: String?
        if let secret = session.enrolmentSecret {
            let address = TOTP(secret: secret).createAuthenticatorURL(label: "EHCP:\(session.name)", issuer: "EHCP")
            qrCode = try? QRCode(bytes: Array(address.utf8)).svg(label: "QR code to scan with your authenticator app")
            key = URLComponents(string: address)?.queryItems?.first { $0.name == "secret" }?.value.map { key in
                stride(from: 0, to: key.count, by: 4).map { String(Array(key)[$0..<min($0 + 4, key.count)]) }.joined(separator: " ")
            }
        }
        let view = View(
            layout: Layout(title: setUp ? "Set up your authenticator app" : "Enter your code", session: nil, errors: errors),
            action: setUp ? Self.setUpPath : Self.codePath, next: next, setUp: setUp, qrCode: qrCode, key: key)
        var withToken = view
        withToken.layout.formToken = session.formToken
        return pages.render("second-factor", withToken, status: status)
    }
}
