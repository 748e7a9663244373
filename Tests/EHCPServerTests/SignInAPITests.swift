import EHCPDomain
import Foundation
import Testing

/// Refusing a token costs the guesser more than the database (docs/security.md, "Cheap refusals").
@Suite("Sign-in: refusals are cheap and limited per address")
struct SignInAPITests {
    static func madeUpToken() -> String {
        "ehcp_" + (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }

    @Test("an unknown token is refused without a database round trip after the first")
    func unknownTokenIsRemembered() async throws {
        let harness = try APIHarness()
        try await harness.run { (client: Client) async throws in
            let unknown = Self.madeUpToken()
            #expect(try await client.send(.get, "/v1/cases", as: unknown).status == 401)
            // With no database at all, the remembered token is still refused, while a new one needs the database.
            harness.pool.shutdown()
            #expect(try await client.send(.get, "/v1/cases", as: unknown).status == 401)
            #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken()).status == 503)
        }
    }

    @Test("an address that presents 20 refused tokens in a minute gets 429 with Retry-After; other addresses and live tokens are unaffected")
    func failuresPerAddress() async throws {
        try await APIHarness().run { (client: Client) async throws in
            let attacker = ["X-Forwarded-For": "198.51.100.1, 203.0.113.7"]  // the proxy appends the address it saw last
            // Tokens not even in the right shape cost nothing and are not counted.
            for _ in 0..<30 { #expect(try await client.send(.get, "/v1/cases", as: "not-even-a-token", headers: attacker).status == 401) }
            for _ in 0..<20 { #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: attacker).status == 401) }
            let limited = try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: attacker)
            #expect(limited.status == 429 && limited.string("code") == "tooManyFailedSignIns")
            #expect((1...61).contains(Int(limited.headers[.retryAfter] ?? "") ?? 0))
            // A token not remembered as live waits too; one the server has just seen live (here from another
            // address, so that the 5-second memory cannot lapse on a slow machine) still works.
            let other = ["X-Forwarded-For": "203.0.113.7, 203.0.113.8"]
            #expect(try await client.send(.get, "/v1/cases", as: "Ben", headers: attacker).status == 429)
            #expect(try await client.send(.get, "/v1/cases", as: "Ann", headers: other).status == 200)
            #expect(try await client.send(.get, "/v1/cases", as: "Ann", headers: attacker).status == 200)
            // Another address is not limited: the first entry of X-Forwarded-For is the client's to write, so it is ignored.
            #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: other).status == 401)
            #expect(try await client.send(.get, "/v1/cases", as: "Ben", headers: other).status == 200)
        }
    }

    @Test("an IPv6 client is counted by its /64, so rotating addresses within it does not escape the limit")
    func ipv6Blocks() async throws {
        try await APIHarness().run { (client: Client) async throws in
            for n in 1...20 {
                let from = ["X-Forwarded-For": "2001:db8:0:7::\(String(n, radix: 16))"]
                #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: from).status == 401)
            }
            let sameBlock = ["X-Forwarded-For": "2001:0db8:0000:0007:ffff:ffff:ffff:fffe"]
            #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: sameBlock).status == 429)
            let nextBlock = ["X-Forwarded-For": "2001:db8:0:8::1"]
            #expect(try await client.send(.get, "/v1/cases", as: Self.madeUpToken(), headers: nextBlock).status == 401)
        }
    }
}
