import Digest
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
    let posts = Mutex<[Post]>([])

    init(failures: Int) { self.failures = failures }

    var application: some ApplicationProtocol {
        let router = Router()
        router.post("hook") { request, context -> Response in
            var request = request
            let body = String(buffer: try await request.collectBody(upTo: 1 << 20))
            let delivery = request.headers[.init("X-EHCP-Delivery")!] ?? ""
            let signature = request.headers[.init("X-EHCP-Signature")!] ?? ""
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

    func subscribe(_ harness: SchedulerHarness, url: String) throws {
        let owner = try harness.database.connect()
        defer { owner.close() }
        try owner.query(
            "INSERT INTO webhook_subscriptions (subscription_id, council_id, url, secret, created_by) VALUES ($1, $2, $3, $4, 'test')",
            [UUID(), harness.council, url, Self.secret])
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
            var settings = AlertDispatcher.Settings()
            settings.baseDelay = .zero
            let dispatcher = AlertDispatcher(pool: harness.pool, settings: settings)
            var reports: [AlertDispatcher.Report] = []
            for _ in 0..<4 { reports.append(try await dispatcher.dispatchOnce()) }
            #expect(reports.map(\.failed) == [4, 4, 0, 0])
            #expect(reports.map(\.delivered) == [0, 0, 4, 0])
            let accepted = receiver.posts.withLock { $0.filter { $0.status == 204 } }
            #expect(accepted.count == 4)
            #expect(Set(accepted.map(\.delivery)).count == 4)
            for post in accepted {
                #expect(post.signature == "sha256=" + SHA256.hmac(key: Array(Self.secret.utf8), message: Array(post.body.utf8)).hex)
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
        var settings = AlertDispatcher.Settings()
        settings.baseDelay = .zero
        settings.maxAttempts = 3
        settings.timeout = .seconds(1)
        let dispatcher = AlertDispatcher(pool: harness.pool, settings: settings)
        var reports: [AlertDispatcher.Report] = []
        for _ in 0..<4 { reports.append(try await dispatcher.dispatchOnce()) }
        #expect(reports.map(\.dead) == [0, 0, 2, 0])  // the breach, for Ann and for Meg
        #expect(try await harness.count("SELECT count(*) FROM outbox WHERE dead_at IS NOT NULL AND last_error IS NOT NULL") == 2)
        let outbox = OutboxQueries()
        let council = harness.council
        let dead = try await harness.pool.transaction(council: council) { try outbox.deadLetters(limit: 10, on: $0) }
        #expect(dead.count == 2 && dead.allSatisfy { $0.attempts == 3 })
        let redriven = try await harness.pool.transaction(council: council) { try outbox.redrive(deliveryId: dead[0].deliveryId, on: $0) }
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
            var settings = AlertDispatcher.Settings()
            settings.batchSize = 3
            async let a = AlertDispatcher(pool: harness.pool, settings: settings).dispatchOnce()
            async let b = AlertDispatcher(pool: other, settings: settings).dispatchOnce()
            let (one, two) = try await (a, b)
            #expect(one.delivered + two.delivered == 30)  // 15 cases × one breach × (Ann + Meg)
            let deliveries = receiver.posts.withLock { $0.map(\.delivery) }
            #expect(deliveries.count == 30 && Set(deliveries).count == 30)
        }
    }
}
