import EHCPStore
import Foundation
import Hummingbird
import Postgres
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Resolves `Authorization: Bearer …` to a user (401 when missing, unknown, revoked or expired).
///
/// Refusals are cheap, so that guessing tokens costs the guesser more than the database:
/// - a token found live is remembered for `TokenCache.lifetime` (5 s), so a busy client costs one lookup
///   every few seconds; revoking a token therefore takes effect within 5 s;
/// - a token found unknown is remembered for `TokenCache.unknownLifetime` (30 s), so repeating it costs
///   no database round trip;
/// - a client address that presents `FailedSignIns.limit` unknown tokens within a minute gets 429 until
///   the minute is over, for every token not remembered as live (seen live in the last 5 s). Tokens not
///   even in the right shape cost nothing and are not counted, so they cannot lock an address out.
struct Authentication: RouterMiddleware {
    typealias Context = APIContext
    let pool: PostgresPool
    let cache: TokenCache
    let failures: FailedSignIns
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.utf8.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw Problem.unauthenticated
        }
        let token = String(header.utf8.dropFirst(7).trimmingOptionalWhitespace)!
        let address = context.clientAddress(forwardedFor: request.headers[values: .init("X-Forwarded-For")!])
        let user: AuthenticatedUser
        switch cache.lookup(token) {
        case .live(let known):
            user = known
        case .unknown:
            try refuse(address)  // counted for the address's limit and on /metrics
        case nil:
            // Tokens are "ehcp_" and 64 hex digits: anything else is refused without a database round trip.
            guard token.utf8.count == 69, token.hasPrefix("ehcp_") else {
                metrics.signInRefused(channel: "api")
                throw Problem.unauthenticated
            }
            if let wait = failures.retryAfter(address) { throw Problem.tooManyFailedSignIns(retryAfter: wait) }
            let found: AuthenticatedUser?
            do {
                found = try await pool.withConnection { try UserDirectory().authenticate(token: token, on: $0) }
            } catch {
                throw Problem.from(error)
            }
            guard let found else {
                cache.remember(.unknown, for: token)
                try refuse(address)
            }
            cache.remember(.live(found), for: token)
            user = found
        }
        var context = context
        context.user = user
        context.actor.value = (user.name, user.councilId)
        return try await next(request, context)
    }

    private func refuse(_ address: String) throws -> Never {
        failures.count(address)
        metrics.signInRefused(channel: "api")
        throw Problem.unauthenticated
    }
}

extension Substring.UTF8View {
    /// Without leading and trailing spaces and tabs (RFC 9110's optional whitespace around a field value's parts).
    var trimmingOptionalWhitespace: Substring.UTF8View {
        let blank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let first = firstIndex(where: { !blank($0) }), let last = lastIndex(where: { !blank($0) }) else { return self[endIndex...] }
        return self[first...last]
    }
}

/// Tokens seen in the last few seconds: live ones with their user, and unknown ones.
final class TokenCache: Sendable {
    static let lifetime = Duration.seconds(5)
    static let unknownLifetime = Duration.seconds(30)
    /// Entries kept at most; past it the cache starts again empty (a flood of made-up tokens costs memory once).
    static let capacity = 10_000

    enum Entry {
        case live(AuthenticatedUser)
        case unknown
    }
    private let entries = Mutex<[String: (entry: Entry, until: ContinuousClock.Instant)]>([:])

    func lookup(_ token: String) -> Entry? {
        entries.withLock { entries in
            guard let found = entries[token] else { return nil }
            if found.until < .now {
                entries[token] = nil
                return nil
            }
            return found.entry
        }
    }

    func remember(_ entry: Entry, for token: String) {
        let lifetime = if case .live = entry { Self.lifetime } else { Self.unknownLifetime }
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll() }
            entries[token] = (entry, .now + lifetime)
        }
    }
}

/// Failed sign-ins per key (a client address, or an account name), counted in fixed windows: unknown
/// tokens per address for the API, wrong passwords per address and per account for the web pages. An
/// IPv6 client is counted by its /64, the block one subscriber holds, so that rotating addresses within
/// it gains nothing.
public final class FailedSignIns: Sendable {
    /// The API's limit: unknown tokens per address per minute.
    public static let limit = 20
    /// Keys kept at most. Past it, keys whose window has ended go first; only a flood of this many live
    /// keys within one window starts the count again empty (memory stays bounded).
    static let capacity = 100_000
    /// Failures allowed per key within one window.
    public let limit: Int
    public let window: Duration
    private let windows = Mutex<[String: (count: Int, ends: ContinuousClock.Instant)]>([:])

    public init(limit: Int = FailedSignIns.limit, window: Duration = .seconds(60)) {
        self.limit = limit
        self.window = window
    }

    public func count(_ client: String) {
        let address = Self.block(client)
        let now = ContinuousClock.now
        windows.withLock { windows in add(address, to: &windows, now: now) }
    }

    /// Takes an attempt for every key at once, before the password or code is checked, so that attempts
    /// sent together cannot all pass the check before any of them is counted. When a key has none left,
    /// takes nothing and says how long to wait. A successful attempt is given back (`succeeded`).
    public func attempt(_ clients: [String]) -> Duration? {
        let keys = clients.map(Self.block)
        let now = ContinuousClock.now
        return windows.withLock { windows in
            let waits = keys.compactMap { key in windows[key].flatMap { $0.ends > now && $0.count >= limit ? $0.ends - now : nil } }
            if let longest = waits.max() { return longest }
            for key in keys { add(key, to: &windows, now: now) }
            return nil
        }
    }

    /// Gives back the attempts `attempt` took, for a sign-in that succeeded.
    public func succeeded(_ clients: [String]) {
        let now = ContinuousClock.now
        windows.withLock { windows in
            for key in clients.map(Self.block) {
                if let current = windows[key], current.ends > now, current.count > 0 { windows[key]!.count = current.count - 1 }
            }
        }
    }

    private func add(_ key: String, to windows: inout [String: (count: Int, ends: ContinuousClock.Instant)], now: ContinuousClock.Instant) {
        if windows.count >= Self.capacity {
            windows = windows.filter { $0.value.ends > now }
            if windows.count >= Self.capacity { windows.removeAll() }
        }
        if let current = windows[key], current.ends > now {
            windows[key]!.count = current.count + 1
        } else {
            windows[key] = (1, now + window)
        }
    }

    /// How long until `address` may try again, when it has used up its refusals for this window.
    public func retryAfter(_ client: String) -> Duration? {
        let address = Self.block(client)
        let now = ContinuousClock.now
        return windows.withLock { windows in
            guard let current = windows[address], current.ends > now, current.count >= limit else { return nil }
            return current.ends - now
        }
    }

    /// The key an address is counted under: an IPv4 address as it is, an IPv6 address by its first 64 bits.
    static func block(_ address: String) -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        guard address.contains(":"), inet_pton(AF_INET6, address, &bytes) == 1 else { return address }
        if bytes[0..<12] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff] { return bytes[12...].map(String.init).joined(separator: ".") }
        return stride(from: 0, to: 8, by: 2).map { String(UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]), radix: 16) }.joined(separator: ":")
            + "::/64"
    }
}
