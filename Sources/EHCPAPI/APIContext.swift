import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdAuth
import Logging
import Synchronization

extension UUID {
    /// A random (version 4) UUID from the system generator. Foundation's `UUID()` opens and reads
    /// /dev/urandom on each call, three system calls that showed in profiles of every request.
    static func randomVersion4() -> UUID {
        var generator = SystemRandomNumberGenerator()
        var bytes = (generator.next() as UInt64, generator.next() as UInt64)
        return withUnsafeMutableBytes(of: &bytes) { raw in
            raw[6] = raw[6] & 0x0f | 0x40  // version 4
            raw[8] = raw[8] & 0x3f | 0x80  // RFC 4122 variant
            return UUID(uuid: raw.load(as: uuid_t.self))
        }
    }
}

/// The per-request context: who is calling (set by `Authentication` for the API, by the session for the
/// web pages) and the request id used in logs.
public struct APIContext: RequestContext, SessionRequestContext, AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller; nil only before `Authentication` has run (health, metrics, OpenAPI).
    public var user: AuthenticatedUser?
    /// The server's own id for the request: in logs, the access log and the `X-Request-Id` response header.
    public var requestId: String
    /// An `X-Request-Id` the client sent, kept beside ours (never instead of it: a client cannot choose
    /// which id an access-log entry carries).
    public var clientRequestId: String?
    /// Who the request turned out to be from, filled in by `Authentication` and read by `RequestLog`
    /// (contexts are values, so the outer middleware cannot see the inner one's copy).
    let actor = ActorBox()
    /// The web pages' session, loaded and saved by hummingbird-auth's `SessionMiddleware` (EHCPWeb).
    public let sessions = SessionContext<WebSession>()
    /// The caller as hummingbird-auth's authenticators see it: the same `user`, so that the pages and the
    /// API go through one authorisation (`require`) and one access log.
    public var identity: AuthenticatedUser? {
        get { user }
        set {
            user = newValue
            actor.value = newValue.map { ($0.name, $0.councilId) }
        }
    }
    /// The connected peer's IP address; nil over a Unix socket (or in the router's tests).
    let peerAddress: String?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        requestId = UUID.randomVersion4().lowercased
        peerAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The client's address, for limits: the peer's, unless the peer is a proxy on this machine (loopback or
    /// a Unix socket), whose `X-Forwarded-For` ends with the address it received the request from.
    public func clientAddress(forwardedFor: [String]) -> String {
        let local = peerAddress.map { $0 == "::1" || $0.hasPrefix("127.") || $0.hasPrefix("::ffff:127.") } ?? true
        guard local, let last = forwardedFor.last?.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty,
            last.utf8.count <= 45
        else { return peerAddress ?? "local" }
        return last
    }

    /// This request, as the access log records it.
    public var accessRequest: AccessLog.Request { AccessLog.Request(id: requestId, clientId: clientRequestId) }

    /// Bodies are read through `RequestBody.read`, which enforces its own limit; this bounds the rest.
    public var maxUploadSize: Int { RequestLimits.bodyBytes }

    /// The caller, who must hold one of `roles`.
    /// - Throws: 401 when nobody is authenticated, 403 when the role does not allow the action.
    public func require(_ roles: Set<UserRole>, to action: String) throws -> AuthenticatedUser {
        guard let user else { throw Problem.unauthenticated }
        guard roles.contains(user.role) else { throw Problem.forbidden(user, to: action, roles: roles) }
        return user
    }
}

/// Who may do what (architecture.md, Security). Auditors read everything and write nothing.
public enum Roles {
    public static let readCases: Set<UserRole> = [.caseworker, .manager, .admin, .auditor]
    public static let writeCases: Set<UserRole> = [.caseworker, .manager, .admin]
    public static let assign: Set<UserRole> = [.manager, .admin]
    public static let reports: Set<UserRole> = [.manager, .admin, .auditor]
    public static let subjectAccess: Set<UserRole> = [.manager, .admin, .auditor]
    public static let administer: Set<UserRole> = [.admin]

    /// What a role may do on a case, for the decider (nil: writes nothing).
    public static func authority(_ role: UserRole) -> Authority? {
        switch role {
        case .caseworker: .logEvents
        case .manager, .admin: .assignCases
        case .auditor: nil
        }
    }
}

/// The authenticated actor's name and council, shared by the middlewares of one request.
final class ActorBox: Sendable {
    private let caller = Mutex<(name: String, council: UUID)?>(nil)
    var value: (name: String, council: UUID)? {
        get { caller.withLock { $0 } }
        set { caller.withLock { $0 = newValue } }
    }
}

/// A signed-in person's web session as stored (`WebSessions`). Name, role, team and council are read
/// afresh from `users` at every load, so a changed role applies at the next page.
public struct WebSession: Codable, Sendable {
    public var userId: UUID
    public var councilId: UUID
    public var name: String
    public var role: UserRole
    public var team: String?
    /// The token every form on the pages carries (cross-site request forgery): random, per session.
    public var formToken: String
    /// Set while the password is given but the second factor is not: such a session signs nobody in.
    public var awaitingSecondFactor: Bool?
    /// While setting up an authenticator app: the new secret, until a code from the app proves it.
    public var enrolmentSecret: String?

    public init(_ user: AuthenticatedUser, formToken: String, awaitingSecondFactor: Bool = false, enrolmentSecret: String? = nil) {
        userId = user.userId
        councilId = user.councilId
        name = user.name
        role = user.role
        team = user.team
        self.formToken = formToken
        self.awaitingSecondFactor = awaitingSecondFactor ? true : nil
        self.enrolmentSecret = enrolmentSecret
    }

    /// Whether this session signs its user in (the password, and the second factor when one is asked).
    public var signsIn: Bool { awaitingSecondFactor != true }

    public var user: AuthenticatedUser { AuthenticatedUser(userId: userId, councilId: councilId, name: name, role: role, team: team) }
}
