import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Testing

@testable import EHCPScheduler

#if canImport(Glibc)
    import Glibc
#endif

/// A TCP port on loopback that accepts connections into its backlog and never answers: every POST to
/// it waits for the client's timeout, as a blackholed receiver would make it.
final class Blackhole: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else { throw POSIXError(.EADDRINUSE) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) } }
        port = Int(UInt16(bigEndian: address.sin_port))
        self.descriptor = descriptor
    }

    func close() { _ = Glibc.close(descriptor) }
}

@Suite("One council, or one receiver, cannot stall another's breaches")
struct IsolationTests {
    /// Polls `condition` until it holds or `seconds` pass (no fixed sleeps: it returns as soon as it holds).
    func eventually(within seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try await condition()
    }

    @Test("a council whose sweep fails (an unreadable stored event) is logged and counted; the next council is still swept")
    func failingCouncil() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        // Council A sorts before the harness's council S, so it is swept first.
        let broken = try harness.database.addCouncil(code: "A")
        let brokenCase = UUID()
        let opened = CivilDate(iso: "2025-03-03")!
        _ = try await harness.repository.record(
            CaseCommand(
                council: broken, caseId: brokenCase,
                command: LogEvent(.requestReceived(RequestReceived(requestSource: .parent)), on: opened, by: "Ann", today: opened)),
            pool: harness.pool)
        let owner = try harness.database.connect()
        defer { owner.close() }
        try owner.query(#"UPDATE events SET data = '{"requestSource": 5}' WHERE case_id = $1"#, [brokenCase])
        try await harness.openCase()
        let report = try await harness.sweeper().sweep(today: day("2025-04-15"))
        #expect(report.councilsFailed == 1)
        #expect(report.breaches == 1)
        #expect(try await harness.schedulerEvents().count == 1)
    }

    @Test("while a webhook POST hangs on a blackholed receiver, a newly due breach is still recorded at once")
    func blackholedReceiver() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        let blackhole = try Blackhole()
        defer { blackhole.close() }
        try WebhookTests().subscribe(harness, url: "http://127.0.0.1:\(blackhole.port)/hook")
        var delivery = WebhookTests.loopback()
        delivery.timeout = .seconds(60)
        delivery.retry.lease = .seconds(120)
        let service = SchedulerService(
            sweeper: harness.sweeper(), dispatcher: AlertDispatcher(pool: harness.pool, settings: delivery), interval: .seconds(1),
            listening: .init(conninfo: harness.database.serviceConninfo), today: { day("2025-04-15") })
        try await harness.openCase()
        let running = Task { try await service.run() }
        defer { running.cancel() }
        // The first breach's alerts are claimed and their POSTs are hanging.
        #expect(
            try await eventually(within: 20) {
                try await harness.count("SELECT count(*) FROM outbox WHERE leased_until > now() AND delivered_at IS NULL") > 0
            })
        let second = try await harness.openCase()  // due: the next sweep, a second away, must record it
        let breached = try await eventually(within: 15) {
            try await harness.schedulerEvents().contains { $0.0 == second && $0.1 == "DeadlineBreached" }
        }
        #expect(breached, "the sweep waited for the hanging POST")
    }
}
