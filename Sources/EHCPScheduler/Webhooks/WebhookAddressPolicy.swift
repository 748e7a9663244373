import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a webhook may be sent: decided at send time, on the addresses the host resolves to then, so a
/// subscription cannot be turned into a way to reach the service's own network (server-side request
/// forgery). Loopback, private (RFC 1918, fc00::/7), link-local (169.254/16, fe80::/10, where cloud
/// metadata services live), shared (100.64/10), multicast and reserved addresses are refused, unless an
/// operator lists the URL's host in the settings file (`webhookAllowedHosts`).
///
/// The HTTP client resolves the name again when it connects; a name whose answer changes between the
/// two look-ups (DNS rebinding) is the remaining gap, which docs/security.md says to close with an
/// egress firewall.
public struct WebhookAddressPolicy: Sendable, Hashable {
    /// Hosts (as written in the URL, lower case) that may be reached whatever they resolve to.
    public var allowedHosts: Set<String>

    public init(allowedHosts: Set<String> = []) {
        self.allowedHosts = Set(allowedHosts.map { $0.lowercased() })
    }

    /// Why a URL may not be sent to now, in words fit to show an administrator; nil when it may.
    public func refusal(for url: String) async -> String? {
        guard let components = URLComponents(string: url), let host = components.host?.lowercased(), !host.isEmpty else {
            return "refused: the URL has no host"
        }
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if allowedHosts.contains(host) || allowedHosts.contains(bare) { return nil }
        let addresses = await Self.resolve(bare)
        if addresses.isEmpty { return "failed: the host name could not be resolved" }
        if let blocked = addresses.first(where: { !Self.isPublic($0) }) {
            return "refused: the host resolves to a \(Self.describe(blocked)) address, which webhooks may not reach"
        }
        return nil
    }

    /// An address as its raw bytes: 4 for IPv4, 16 for IPv6.
    public typealias Address = [UInt8]

    /// Every address `host` resolves to (empty when it does not resolve). Runs the blocking look-up off
    /// the cooperative thread pool.
    static func resolve(_ host: String) async -> [Address] {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: lookUp(host)) }
        }
    }

    private static func lookUp(_ host: String) -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0, let first = list else { return [] }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let raw = info.pointee.ai_addr {
                switch Int32(raw.pointee.sa_family) {
                case AF_INET:
                    raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { v4 in
                        withUnsafeBytes(of: v4.pointee.sin_addr) { addresses.append(Array($0)) }
                    }
                case AF_INET6:
                    raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { v6 in
                        withUnsafeBytes(of: v6.pointee.sin6_addr) { addresses.append(Array($0)) }
                    }
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Whether an address is an ordinary public unicast address.
    public static func isPublic(_ address: Address) -> Bool { kind(address) == nil }

    /// What makes an address unreachable for webhooks, or nil for a public one.
    static func kind(_ a: Address) -> String? {
        if a.count == 4 {
            switch (a[0], a[1]) {
            case (0, _): return "reserved ('this network')"
            case (127, _): return "loopback"
            case (10, _): return "private"
            case (172, 16...31): return "private"
            case (192, 168): return "private"
            case (169, 254): return "link-local (cloud metadata)"
            case (100, 64...127): return "shared (carrier-grade NAT)"
            case (192, 0) where a[2] == 0: return "reserved (IETF protocol)"
            case (198, 18...19): return "reserved (benchmarking)"
            case (224...239, _): return "multicast"
            case (240...255, _): return "reserved"
            default: return nil
            }
        }
        guard a.count == 16 else { return "unrecognised" }
        if a.dropLast().allSatisfy({ $0 == 0 }) && (a[15] == 0 || a[15] == 1) { return a[15] == 1 ? "loopback" : "unspecified" }
        // IPv4-mapped (::ffff:a.b.c.d) and the NAT64 prefix (64:ff9b::/96) carry an IPv4 address.
        if a[0..<10].allSatisfy({ $0 == 0 }) && a[10] == 0xff && a[11] == 0xff { return kind(Array(a[12...])) }
        if a[0...11].elementsEqual([0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0]) { return kind(Array(a[12...])) }
        if a[0] & 0xfe == 0xfc { return "private (unique local)" }
        if a[0] == 0xfe && a[1] & 0xc0 == 0x80 { return "link-local" }
        if a[0] == 0xfe && a[1] & 0xc0 == 0xc0 { return "site-local" }
        if a[0] == 0xff { return "multicast" }
        return nil
    }

    static func describe(_ address: Address) -> String { kind(address) ?? "public" }
}
