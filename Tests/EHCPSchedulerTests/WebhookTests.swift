import Crypto
import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Postgres
import Synchronization
import Testing

@testable import EHCPScheduler

/// A real HTTP receiver on loopback that fails the first `failures` posts of each delivery.
final class Receiver: Sendable {
    struct Post: Sendable {
        var delivery: String
        var signature: String
        var body: String
        var status: Int
    }
    let failures: Int
    /// When set, every POST is answered with a 302 to this URL.
    let redirectTo: String?
    let posts = Mutex<[Post]>([])

    init(failures: Int, redirectTo: String? = nil) {
        self.failures = failures
        self.redirectTo = redirectTo
    }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, context -> Response in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let delivery = request.headers[.init("X-EHCP-Delivery")!] ?? ""
            let signature = request.headers[.init("X-EHCP-Signature")!] ?? ""
            if let location = self.redirectTo {
                self.posts.withLock { $0.append(Post(delivery: delivery, signature: signature, body: body, status: 302)) }
                return Response(status: .found, headers: [.location: location])
            }
            let status = self.posts.withLock { posts in
                let status = posts.filter { $0.delivery == delivery }.count < self.failures ? 500 : 204
                posts.append(Post(delivery: delivery, signature: signature, body: body, status: status))
                return status
            }
            return Response(status: .init(code: status))
        }
        return Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
    }
}

@Suite("Webhook delivery: signed, retried, dead-lettered")
struct WebhookTests {
    static let secret = "s3cret-for-tests"

    @discardableResult
    func subscribe(_ harness: SchedulerHarness, url: String) throws -> UUID {
        let owner = try harness.database.connect()
        defer { owner.close() }
        let id = UUID()
        try owner.query(
            "INSERT INTO webhook_subscriptions (subscription_id, council_id, url, secret, created_by) VALUES ($1, $2, $3, $4, 'test')",
            [id, harness.council, url, Self.secret])
        return id
    }

    /// Dispatcher settings for receivers on this machine: loopback is allowed only because it is listed.
    static func loopback() -> AlertDispatcher.Settings {
        var settings = AlertDispatcher.Settings()
        settings.addresses = WebhookAddressPolicy(allowedHosts: ["127.0.0.1"])
        return settings
    }

    /// Checks `t=…,v1=…` as a receiver would: the HMAC of the time, a full stop and the body.
    static func verify(_ header: String, body: String) -> Bool {
        let parts = Dictionary(
            header.split(separator: ",").compactMap { part -> (String, String)? in
                let pair = part.split(separator: "=", maxSplits: 1)
                return pair.count == 2 ? (String(pair[0]), String(pair[1])) : nil
            }, uniquingKeysWith: { a, _ in a })
        guard let time = parts["t"].flatMap(Int.init), let mac = parts["v1"], abs(Int(Date().timeIntervalSince1970) - time) < 300 else {
            return false
        }
        let expected = HMAC<SHA256>.authenticationCode(for: Array("\(time).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return mac == expected.hex
    }

    @Test("a receiver that fails twice and then succeeds gets each alert exactly once, with a valid signature")
    func retriedUntilDelivered() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let receiver = Receiver(failures: 2)
        try await receiver.application.test(.live) { client in
            try subscribe(harness, url: "http://127.0.0.1:\(client.port!)/hook")
            try await harness.openCase()
            _ = try await harness.sweeper().sweep(today: day("2025-04-07"))  // the 7-day reminder, for Ann and Meg
            _ = try await harness.sweeper().sweep(today: day("2025-04-15"))  // the breach, for Ann and Meg
            var settings = Self.loopback()
            settings.retry.baseDelay = .zero
            let dispatcher = AlertDispatcher(pool: harness.pool, settings: settings)
            var reports: [AlertDispatcher.Report] = []
            for _ in 0..<4 { reports.append(try await dispatcher.dispatchOnce()) }
            #expect(reports.map(\.failed) == [4, 4, 0, 0])
            #expect(reports.map(\.delivered) == [0, 0, 4, 0])
            let accepted = receiver.posts.withLock { $0.filter { $0.status == 204 } }
            #expect(accepted.count == 4)
            #expect(Set(accepted.map(\.delivery)).count == 4)
            for post in accepted {
                #expect(Self.verify(post.signature, body: post.body))
                #expect(!Self.verify(post.signature, body: post.body + " "))
                #expect(post.body.contains(#""deliveryId":"\#(post.delivery)""#))
            }
            #expect(
                accepted.contains {
                    $0.body.contains(#""kind":"breach""#) && $0.body.contains(#""daysOverdue":1"#) && $0.body.contains("R-DECIDE-6W")
                })
            #expect(try await harness.count("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND attempts = 3") == 4)
        }
    }

    @Test("a dead receiver ends in the dead letter after the last attempt, and a redrive sends it again")
    func deadLetter() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try subscribe(harness, url: "http://127.0.0.1:9/hook")  // the discard port: nothing listens
        try await harness.openCase()
        _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
        var settings = Self.loopback()
        settings.retry.baseDelay = .zero
        settings.retry.maxAttempts = 3
        settings.timeout = .seconds(1)
        let dispatcher = AlertDispatcher(pool: harness.pool, settings: settings)
        var reports: [AlertDispatcher.Report] = []
        for _ in 0..<4 { reports.append(try await dispatcher.dispatchOnce()) }
        #expect(reports.map(\.dead) == [0, 0, 2, 0])  // the breach, for Ann and for Meg
        #expect(try await harness.count("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL AND last_error IS NOT NULL") == 2)
        let outbox = OutboxQueries()
        let council = harness.council
        let dead = try await harness.pool.transaction(council: council) { try outbox.deadLetters(channel: "webhook", limit: 10, on: $0) }
        #expect(dead.count == 2 && dead.allSatisfy { $0.attempts == 3 })
        // What an administrator reads says why in a few words, and nothing of the client's own error.
        #expect(dead.allSatisfy { $0.lastError == "failed: could not connect to the receiver or complete the request" })
        let redriven = try await harness.pool.transaction(council: council) {
            try outbox.redrive(deliveryId: dead[0].deliveryId, channel: "webhook", on: $0)
        }
        #expect(redriven)
        #expect(try await dispatcher.dispatchOnce().failed == 1)
    }

    @Test("two dispatchers never post the same row")
    func dispatchersDoNotOverlap() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let receiver = Receiver(failures: 0)
        try await receiver.application.test(.live) { client in
            try subscribe(harness, url: "http://127.0.0.1:\(client.port!)/hook")
            for _ in 0..<15 { try await harness.openCase() }
            _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
            let other = try harness.database.pool(size: 2)
            defer { other.shutdown() }
            var settings = Self.loopback()
            settings.retry.batchSize = 3
            async let a = AlertDispatcher(pool: harness.pool, settings: settings).dispatchOnce()
            async let b = AlertDispatcher(pool: other, settings: settings).dispatchOnce()
            let (one, two) = try await (a, b)
            #expect(one.delivered + two.delivered == 30)  // 15 cases × one breach × (Ann + Meg)
            let deliveries = receiver.posts.withLock { $0.map(\.delivery) }
            #expect(deliveries.count == 30 && Set(deliveries).count == 30)
        }
    }
}

@Suite("Webhooks cannot reach the service's own network")
struct WebhookForgeryTests {
    @Test("the signature is docs/api.md's worked example: the HMAC of the time, a full stop and the body")
    func workedExample() {
        #expect(
            AlertDispatcher.signature(body: #"{"alertId":1}"#, secret: "s3cret-for-tests", at: 1_764_489_600)
                == "t=1764489600,v1=87f0095588dd36faf55bbc4dcfb8a8abf392cd394cd8639c465a8452edbf8973")
    }

    @Test(
        "loopback, private, link-local, shared and metadata addresses are refused; public ones are not",
        arguments: [
            ([127, 0, 0, 1], false), ([10, 1, 2, 3], false), ([172, 16, 0, 1], false), ([172, 31, 255, 255], false), ([192, 168, 1, 1], false),
            ([169, 254, 169, 254], false), ([100, 100, 100, 200], false), ([0, 0, 0, 0], false), ([224, 0, 0, 1], false),
            ([8, 8, 8, 8], true), ([172, 32, 0, 1], true), ([81, 2, 69, 160], true),
        ] as [([UInt8], Bool)])
    func ipv4(address: [UInt8], allowed: Bool) {
        #expect(WebhookAddressPolicy.isPublic(address) == allowed)
    }

    @Test("IPv6: loopback, unique local (fc00::/7), link-local (fe80::/10) and IPv4-mapped private addresses are refused")
    func ipv6() {
        func v6(_ prefix: [UInt8], _ suffix: [UInt8] = []) -> [UInt8] {
            prefix + [UInt8](repeating: 0, count: 16 - prefix.count - suffix.count) + suffix
        }
        #expect(!WebhookAddressPolicy.isPublic(v6([], [1])))  // ::1
        #expect(!WebhookAddressPolicy.isPublic(v6([0xfd, 0x00, 0x0e, 0xc2], [0x02, 0x54])))  // fd00:ec2::254, a metadata service
        #expect(!WebhookAddressPolicy.isPublic(v6([0xfe, 0x80], [1])))
        #expect(!WebhookAddressPolicy.isPublic(v6([], [0xff, 0xff, 169, 254, 169, 254])))  // ::ffff:169.254.169.254
        #expect(WebhookAddressPolicy.isPublic(v6([0x2a, 0x00, 0x14, 0x50], [1])))
    }

    @Test("a subscription to the metadata service or to the database port is refused at send time, and nothing is sent")
    func refusedAtSendTime() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let tests = WebhookTests()
        try tests.subscribe(harness, url: "https://169.254.169.254/latest/meta-data/")
        try tests.subscribe(harness, url: "http://127.0.0.1:5432/")
        try tests.subscribe(harness, url: "http://localhost:5432/")
        try await harness.openCase()
        _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
        var settings = AlertDispatcher.Settings()  // no host allowed
        settings.retry.maxAttempts = 1
        let report = try await AlertDispatcher(pool: harness.pool, settings: settings).dispatchOnce()
        #expect(report.dead == 6 && report.delivered == 0)  // 3 subscriptions × (Ann + Meg)
        let dead = try await harness.pool.transaction(council: harness.council) {
            try OutboxQueries().deadLetters(channel: "webhook", limit: 10, on: $0)
        }
        #expect(dead.count == 6)
        #expect(dead.allSatisfy { ($0.lastError ?? "").hasPrefix("refused: the host resolves to a ") })
        #expect(dead.contains { $0.lastError!.contains("link-local") } && dead.contains { $0.lastError!.contains("loopback") })
    }

    @Test("a redirect is not followed: the receiver's target never gets the POST")
    func redirectNotFollowed() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let target = Receiver(failures: 0)
        try await target.application.test(.live) { targetClient in
            let redirecting = Receiver(failures: 0, redirectTo: "http://127.0.0.1:\(targetClient.port!)/hook")
            try await redirecting.application.test(.live) { client in
                try WebhookTests().subscribe(harness, url: "http://127.0.0.1:\(client.port!)/hook")
                try await harness.openCase()
                _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
                var settings = WebhookTests.loopback()
                settings.retry.maxAttempts = 1
                let report = try await AlertDispatcher(pool: harness.pool, settings: settings).dispatchOnce()
                #expect(report.dead == 2 && report.delivered == 0)
                #expect(redirecting.posts.withLock { $0.count } == 2)
                #expect(target.posts.withLock { $0.isEmpty })
                let dead = try await harness.pool.transaction(council: harness.council) {
                    try OutboxQueries().deadLetters(channel: "webhook", limit: 10, on: $0)
                }
                #expect(dead.allSatisfy { $0.lastError == "failed: the receiver answered HTTP 302, a redirect, which is not followed" })
            }
        }
    }

    @Test("deleting a subscription stops its pending deliveries, and its dead ones can no longer be redriven")
    func unsubscribeStopsDeliveries() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let receiver = Receiver(failures: 0)
        try await receiver.application.test(.live) { client in
            let tests = WebhookTests()
            let live = try tests.subscribe(harness, url: "http://127.0.0.1:\(client.port!)/hook")
            let doomed = try tests.subscribe(harness, url: "http://127.0.0.1:9/hook")
            try await harness.openCase()
            _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
            var settings = WebhookTests.loopback()
            settings.retry.maxAttempts = 1
            let dispatcher = AlertDispatcher(pool: harness.pool, settings: settings)
            // The doomed subscription's deliveries die; the live one's arrive.
            #expect(try await dispatcher.dispatchOnce().dead == 2)
            let council = harness.council
            let dead = try await harness.pool.transaction(council: council) { try OutboxQueries().deadLetters(channel: "webhook", limit: 10, on: $0) }
            #expect(dead.count == 2 && dead.allSatisfy { $0.subscriptionId == doomed })
            // Another breach is pending for both when the live one is deleted, and the doomed one too.
            try await harness.openCase()
            _ = try await harness.sweeper().sweep(today: day("2025-04-15"))
            for id in [live, doomed] {
                #expect(try await harness.pool.transaction(council: council) { try OutboxQueries().unsubscribe(id, on: $0) })
            }
            let before = receiver.posts.withLock { $0.count }
            #expect(try await dispatcher.dispatchOnce().claimed == 0)
            #expect(receiver.posts.withLock { $0.count } == before)
            #expect(
                try await harness.pool.transaction(council: council) {
                    try OutboxQueries().redrive(deliveryId: dead[0].deliveryId, channel: "webhook", on: $0)
                } == false)
            #expect(
                try await harness.pool.transaction(council: council) { try OutboxQueries().deadLetters(channel: "webhook", limit: 10, on: $0) }
                    .isEmpty)
        }
    }
}
