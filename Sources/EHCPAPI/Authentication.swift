import EHCPStore
import Foundation
import Hummingbird
import Postgres
import Synchronization

/// Resolves `Authorization: Bearer …` to a user (401 when missing, unknown, revoked or expired).
///
/// Refusals are cheap, so that guessing tokens costs the guesser more than the database:
/// - a token found live is remembered for `TokenCache.lifetime` (5 s), so a busy client costs one lookup
///   every few seconds; revoking a token therefore takes effect within 5 s;
/// - a token found unknown is remembered for `TokenCache.unknownLifetime` (30 s), so repeating it costs
///   no database round trip;
/// - a client address that presents `FailedSignIns.limit` refused tokens within a minute gets 429 until
///   the minute is over, for every token not already remembered as live.
struct Authentication: RouterMiddleware {
    typealias Context = APIContext
    let pool: PostgresPool
    let cache: TokenCache
    let failures: FailedSignIns

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
            try refuse(address)
        case nil:
            if let wait = failures.retryAfter(address) { throw Problem.tooManyFailedSignIns(retryAfter: wait) }
            // Tokens are "ehcp_" and 64 hex digits: anything else is refused without a database round trip.
            guard token.utf8.count == 69, token.hasPrefix("ehcp_") else { try refuse(address) }
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

/// Refused tokens per client address, counted in fixed one-minute windows.
final class FailedSignIns: Sendable {
    static let limit = 20
    static let window = Duration.seconds(60)
    static let capacity = 10_000
    private let windows = Mutex<[String: (count: Int, ends: ContinuousClock.Instant)]>([:])

    func count(_ address: String) {
        let now = ContinuousClock.now
        windows.withLock { windows in
            if windows.count >= Self.capacity { windows = windows.filter { $0.value.ends > now } }
            if let current = windows[address], current.ends > now {
                windows[address]!.count = current.count + 1
            } else {
                windows[address] = (1, now + Self.window)
            }
        }
    }

    /// How long until `address` may try again, when it has used up its refusals for this window.
    func retryAfter(_ address: String) -> Duration? {
        let now = ContinuousClock.now
        return windows.withLock { windows in
            guard let current = windows[address], current.ends > now, current.count >= Self.limit else { return nil }
            return current.ends - now
        }
    }
}
