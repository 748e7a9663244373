import EHCPStore

/// How the web pages are served.
public struct WebSettings: Sendable {
    /// Whether people reach the service over https (behind the council's proxy): session cookies are then
    /// `Secure`, so a browser never sends them over plain http.
    public var secureCookies: Bool
    /// Roles that must sign in with a second factor: a code from an authenticator app (RFC 6238).
    public var twoFactorRoles: Set<UserRole>

    public init(secureCookies: Bool = false, twoFactorRoles: Set<UserRole> = []) {
        self.secureCookies = secureCookies
        self.twoFactorRoles = twoFactorRoles
    }

    /// Settings for a service people reach at `publicURL` (https makes cookies `Secure`).
    public init(publicURL: String?) {
        self.init(secureCookies: publicURL?.lowercased().hasPrefix("https://") ?? false)
    }

    static let sessionCookie = "ehcp_session"
    static let signInCookie = "ehcp_sign_in"
}
