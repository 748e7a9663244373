import EHCPAPI
import Foundation
import Hummingbird

/// A submitted form (`application/x-www-form-urlencoded`), read only after its token has been checked:
/// the one way a page reads a POST, so no form can skip the check against cross-site request forgery.
public struct WebForm: Sendable {
    static let maxBytes = 64 * 1024
    private(set) var fields: [String: String] = [:]

    subscript(_ name: String) -> String? { fields[name] }

    /// The trimmed value, or nil when it is missing or blank.
    func text(_ name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    /// Reads the body and checks its `formToken` against `expected` (the session's, or the sign-in
    /// cookie's); a missing or wrong token is refused with 403 and nothing is done.
    static func read(_ request: Request, context: APIContext, expected: String?) async throws -> WebForm {
        let buffer = try await request.body.collect(upTo: maxBytes)
        let form = parse(String(buffer: buffer))
        guard let expected, let given = form["formToken"], constantTimeEqual(given, expected) else {
            throw Problem(
                .forbidden, title: "The form has expired",
                detail: "This form was not sent from a page of this service, or it has expired. Go back, reload the page and try again.",
                code: "formToken")
        }
        return form
    }

    static func parse(_ body: String) -> WebForm {
        var form = WebForm()
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String? { String(text).replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            guard let name = parts.first.flatMap(decode) else { continue }
            let value = parts.count > 1 ? decode(parts[1]) ?? "" : ""
            // A NUL can reach no column, and a field is kept once (the first), as browsers send it.
            if form.fields[name] == nil, !value.contains("\u{0}") { form.fields[name] = value }
        }
        return form
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// 32 random bytes as hex: a form token, a sign-in cookie or a write key.
    public static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}
