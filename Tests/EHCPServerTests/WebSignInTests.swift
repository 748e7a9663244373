import EHCPAPI
import EHCPServer
import EHCPStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdOTP
import HummingbirdTesting
import Testing

/// The web pages' sign-in as a browser meets it, against the router: cookies kept between requests,
/// forms posted with the tokens their pages carry.
@Suite("Web sign-in: cookies, form tokens and the second factor")
struct WebSignInTests {
    static let password = "three random words"

    /// Gives `name` the test password, hashed off the cooperative pool.
    static func setPassword(_ name: String, in harness: APIHarness) async throws {
        let owner = try harness.database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        let user = try directory.userId(name: name, council: harness.councilA, on: owner)
        try await PasswordHash.offPool { try directory.setPassword(userId: user, password: Self.password, on: owner) }
    }

    @Test("a manager whose council asks for a second factor sets up an app once, then gives its code at every sign-in")
    func secondFactor() async throws {
        let harness = try APIHarness { $0.settings.twoFactorRoles = [.manager] }
        try await Self.setPassword("Meg", in: harness)
        try await Self.setPassword("Ann", in: harness)
        try await harness.run { client in
            let browser = Browser(client: client.client)
            // The caseworker's role needs no second factor.
            var reply = try await browser.signIn("Ann", Self.password)
            #expect(reply.status == 303 && reply.location == "/")
            browser.forget()

            reply = try await browser.signIn("Meg", Self.password)
            #expect(reply.status == 303 && reply.location == "/sign-in/set-up-code?next=%2F")
            // Waiting for the second factor signs nobody in.
            #expect(try await browser.get("/").location?.hasPrefix("/sign-in") == true)
            let setUp = try await browser.get("/sign-in/set-up-code?next=/")
            #expect(setUp.status == 200 && setUp.text.contains("<svg") && setUp.text.contains("QR code to scan"))
            let key = try #require(
                setUp.text.firstMatch(of: /qr-code__key">([A-Z2-7 ]+)</).map { String($0.1).replacingOccurrences(of: " ", with: "") })
            #expect(key.count == 52)  // base 32 of a 32-byte secret, as an app reads it
            let secret = Self.base32Decoded(key)
            reply = try await browser.post("/sign-in/set-up-code", ["code": "000000", "next": "/"], tokenFrom: setUp.text)
            #expect(reply.status == 422 && reply.text.contains("The code is not right"))
            let code = String(format: "%06d", TOTP(secret: secret).compute())
            reply = try await browser.post("/sign-in/set-up-code", ["code": code, "next": "/"], tokenFrom: setUp.text)
            #expect(reply.status == 303 && reply.location == "/")
            let home = try await browser.get("/")
            #expect(home.status == 200 && home.text.contains("Signed in as Meg"))

            // Signing out, and in again: now the code is asked for, and a wrong one is refused.
            reply = try await browser.post("/sign-out", [:], tokenFrom: home.text)
            #expect(reply.status == 303)
            #expect(try await browser.get("/").location?.hasPrefix("/sign-in") == true)
            reply = try await browser.signIn("Meg", Self.password)
            #expect(reply.location == "/sign-in/code?next=%2F")
            let ask = try await browser.get("/sign-in/code?next=/")
            #expect(!ask.text.contains("<svg"))
            reply = try await browser.post("/sign-in/code", ["code": "12345", "next": "/"], tokenFrom: ask.text)
            #expect(reply.status == 422 && reply.text.contains("Enter the 6-digit code"))
            // The code that signed in at set-up is spent: seen over a shoulder, it is no use.
            reply = try await browser.post("/sign-in/code", ["code": code, "next": "/"], tokenFrom: ask.text)
            #expect(reply.status == 422 && reply.text.contains("The code is not right"))
            let later = String(format: "%06d", TOTP(secret: secret).compute(date: Date().addingTimeInterval(30)))
            reply = try await browser.post("/sign-in/code", ["code": later, "next": "/"], tokenFrom: ask.text)
            #expect(reply.status == 303)
            #expect(try await browser.get("/").status == 200)
        }
    }

    /// What an authenticator app does with the key it is given (RFC 4648 base 32): the secret's bytes.
    static func base32Decoded(_ text: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var (buffer, bits, bytes) = (0, 0, [UInt8]())
        for character in text {
            guard let value = alphabet.firstIndex(of: character) else { continue }
            buffer = buffer << 5 | value
            bits += 5
            if bits >= 8 {
                bits -= 8
                bytes.append(UInt8((buffer >> bits) & 0xFF))
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @Test("session cookies are HttpOnly, SameSite=Lax and, behind https, Secure; a form without its token is refused")
    func cookies() async throws {
        let harness = try APIHarness { $0.web = .init(publicURL: "https://ehcp.example.gov.uk") }
        try await Self.setPassword("Ann", in: harness)
        try await harness.run { client in
            let browser = Browser(client: client.client)
            let reply = try await browser.signIn("Ann", Self.password)
            let cookie = try #require(reply.headers[values: .setCookie].first { $0.hasPrefix("ehcp_session=") })
            #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Secure"))
            let home = try await browser.get("/")
            #expect(home.status == 200)
            let forged = try await browser.post("/sign-out", [:], token: "0123")
            #expect(forged.status == 403 && forged.text.contains("The form has expired"))
            #expect(try await browser.get("/").status == 200)  // still signed in: the forged sign-out did nothing
        }
    }
}

@Suite("Sign-in limits")
struct SignInLimitTests {
    @Test("attempts sent together are counted before any is checked: of 50 at once, 5 go through; a success gives its attempt back")
    func attemptsTogether() async {
        let limits = FailedSignIns(limit: 5, window: .seconds(900))
        let allowed = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<50 { group.addTask { limits.attempt(["meg"]) == nil } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(allowed == 5)
        #expect(limits.attempt(["meg"]) != nil)
        limits.succeeded(["meg"])
        #expect(limits.attempt(["meg"]) == nil)
        #expect(limits.attempt(["ann"]) == nil)  // another account is counted apart
    }
}

/// A browser's part: cookies kept from `Set-Cookie`, forms posted url-encoded.
final class Browser: @unchecked Sendable {
    let client: any TestClientProtocol
    private var cookies: [String: String] = [:]
    private let lock = NSLock()

    init(client: any TestClientProtocol) { self.client = client }

    struct Reply {
        var status: Int
        var headers: HTTPFields
        var text: String
        var location: String? { headers[.location] }
    }

    func forget() { lock.withLock { cookies = [:] } }

    func get(_ path: String) async throws -> Reply { try await send(.get, path, body: nil) }

    func post(_ path: String, _ fields: [String: String], tokenFrom page: String) async throws -> Reply {
        let token = page.firstMatch(of: /name="formToken" value="([0-9a-f]+)"/).map { String($0.1) } ?? ""
        return try await post(path, fields, token: token)
    }

    func post(_ path: String, _ fields: [String: String], token: String) async throws -> Reply {
        var all = fields
        all["formToken"] = token
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await send(.post, path, body: body)
    }

    func signIn(_ name: String, _ password: String) async throws -> Reply {
        let page = try await get("/sign-in")
        return try await post("/sign-in", ["username": name, "password": password, "next": "/"], tokenFrom: page.text)
    }

    private func send(_ method: HTTPRequest.Method, _ path: String, body: String?) async throws -> Reply {
        var headers = HTTPFields()
        let jar = lock.withLock { cookies }
        if !jar.isEmpty { headers[.cookie] = jar.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if body != nil { headers[.contentType] = "application/x-www-form-urlencoded" }
        let reply = try await client.execute(uri: path, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
        lock.withLock {
            for header in reply.headers[values: .setCookie] {
                guard let pair = header.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
                let (name, value) = (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
                if header.contains("Max-Age=0") || value.isEmpty { cookies[name] = nil } else { cookies[name] = value }
            }
        }
        return reply
    }
}
