import EHCPDomain
import EHCPStore
import Foundation
import Postgres
import Prometheus
import Testing

@testable import EHCPScheduler
@testable import SMTP

/// Alerts by email through a real SMTP server on loopback: what a message carries, TLS and AUTH, a
/// bounced address, exactly one email per breach per recipient however many schedulers run or crash,
/// and the daily digest.
@Suite("Email by SMTP: one email per breach per recipient, digests once a day")
struct EmailTests {
    static let from = "EHCP alerts <ehcp-alerts@council.example>"

    func dispatcher(_ harness: SchedulerHarness, _ configuration: SMTPClient.Configuration, metrics: DeliveryMetrics? = nil) throws -> EmailDispatcher
    {
        var settings = EmailSettings(transport: .smtp(configuration), from: Self.from)
        settings.retry.baseDelay = .zero
        settings.retry.maxAttempts = 3
        return try EmailDispatcher(pool: harness.pool, settings: settings, metrics: metrics)
    }

    func reference(_ harness: SchedulerHarness, _ caseId: UUID) async throws -> String {
        try await harness.pool.transaction(council: harness.council) {
            try $0.query("SELECT reference FROM case_summary WHERE case_id = $1", [caseId]).first!.decode(String.self, at: 0)
        }
    }

    @Test("a breach emails its caseworker and their manager once each, over STARTTLS with AUTH, naming only the case reference")
    func breachOverStartTLS() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        try harness.setEmail("Meg", "meg@council.example")
        let sink = try SMTPSink(security: .startTLS, auth: "ehcp:relay-secret")
        defer { sink.stop() }
        let caseId = try await harness.openCase()
        let reference = try await reference(harness, caseId)
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-07"))  // a reminder: not chosen by default
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))  // the breach of R-DECIDE-6W
        let registry = PrometheusCollectorRegistry()
        let metrics = DeliveryMetrics(emailTransport: "smtp", factory: PrometheusMetricsFactory(registry: registry))
        let report = try await dispatcher(harness, sink.configuration(username: "ehcp", password: "relay-secret"), metrics: metrics).dispatchOnce()
        #expect(report.delivered == 2 && report.failed == 0 && report.dead == 0)

        let messages = try sink.messages()
        #expect(messages.map(\.rcptTos).sorted { $0[0] < $1[0] } == [["ann@council.example"], ["meg@council.example"]])
        let deliveries = try await harness.pool.transaction(council: harness.council) { connection in
            try connection.query("SELECT delivery_id, recipient FROM outbox WHERE channel = 'email' ORDER BY recipient").rows.map {
                (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1))
            }
        }
        #expect(deliveries.map(\.1) == ["Ann", "Meg"])
        for message in messages {
            #expect(message.tls && ["TLSv1.2", "TLSv1.3"].contains(message.tlsVersion ?? ""))
            #expect(message.authUser == "ehcp")
            #expect(message.mailFrom == "ehcp-alerts@council.example")
            let headers = message.headers
            #expect(headers["subject"] == "Deadline passed: \(reference)")
            #expect(headers["from"] == Self.from)
            #expect(headers["auto-submitted"] == "auto-generated")
            // The Message-ID is the delivery id: a repeat after a crash is recognisable.
            let delivery = try #require(headers["x-ehcp-delivery"])
            #expect(headers["message-id"] == "<\(delivery)@council.example>")
            #expect(deliveries.map { $0.0.uuidString.lowercased() }.contains(delivery))
            let body = message.body
            #expect(body.contains("A statutory deadline has passed for case \(reference)."))
            #expect(body.contains("Deadline: \(RuleID.decide6W.title)"))
            #expect(body.contains("Due: Monday 14 April 2025"))
            #expect(body.contains("Overdue by: 1 day"))
            #expect(body.contains("https://ehcp.council.example/cases/\(caseId.uuidString.lowercased())"))
            #expect(body.contains("https://ehcp.council.example/account"))
        }
        #expect(messages.contains { $0.body.contains("you are the caseworker") } && messages.contains { $0.body.contains("you manage team North") })
        let exposition = registry.emitToString()
        #expect(exposition.contains(#"ehcp_emails_total{transport="smtp",outcome="sent"} 2"#))
        #expect(exposition.contains(#"ehcp_outbox_pending{channel="email"} 0"#), "\(exposition)")
        // Nothing is left to send.
        #expect(try await dispatcher(harness, sink.configuration(username: "ehcp", password: "relay-secret")).dispatchOnce().claimed == 0)
    }

    @Test("implicit TLS works; an untrusted certificate or a wrong password sends nothing and is retried, then dead-lettered")
    func implicitTLSAndRefusals() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        let sink = try SMTPSink(security: .implicitTLS, auth: "ehcp:relay-secret")
        defer { sink.stop() }
        try await harness.openCase()
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))

        let untrusted = try await dispatcher(harness, sink.configuration(username: "ehcp", password: "relay-secret", trusted: false)).dispatchOnce()
        #expect(untrusted.failed == 1 && untrusted.delivered == 0)
        let wrongPassword = try await dispatcher(harness, sink.configuration(username: "ehcp", password: "guess")).dispatchOnce()
        #expect(wrongPassword.failed == 1)
        #expect(try sink.messages().isEmpty)
        let reason = try await harness.pool.transaction(council: harness.council) {
            try $0.query("SELECT last_error FROM outbox WHERE channel = 'email'").first!.decode(String.self, at: 0)
        }
        #expect(reason.contains("AUTH") && reason.contains("535"), "\(reason)")
        // The third attempt is the last: into the dead letter, from which a redrive sends it.
        #expect(try await dispatcher(harness, sink.configuration(username: "ehcp", password: "guess")).dispatchOnce().dead == 1)
        let dead = try await AlertWork(pool: harness.pool).deadLetters(channel: "email", limit: 10, council: harness.council)
        #expect(dead.count == 1 && dead[0].recipient == "Ann" && dead[0].channel == "email")
        _ = try await AlertWork(pool: harness.pool).redrive(deliveryId: dead[0].deliveryId, channel: "email", council: harness.council, once: nil) {
            #expect($0)
            return KeptResponse(status: 202)
        }
        #expect(try await dispatcher(harness, sink.configuration(username: "ehcp", password: "relay-secret")).dispatchOnce().delivered == 1)
        let received = try sink.messages()
        #expect(received.count == 1 && received[0].tls && received[0].authUser == "ehcp")
    }

    @Test("a bounced address is dead at once and shown to the person and their manager until it is changed")
    func bouncedAddress() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "bounce@council.example")
        try harness.setEmail("Meg", "meg@council.example")
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        try await harness.openCase()
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
        let report = try await dispatcher(harness, sink.configuration()).dispatchOnce()
        #expect(report.delivered == 1 && report.dead == 1 && report.failed == 0)
        let work = AlertWork(pool: harness.pool)
        let ann = try #require(try await work.emailChoices(of: "Ann", council: harness.council))
        #expect(ann.failedAt != nil && (ann.failure ?? "").contains("550"))
        #expect(try await work.emailFailures(team: "North", council: harness.council).map(\.name) == ["Ann"])
        try harness.setEmail("Ann", "ann@council.example")
        #expect(try await work.emailChoices(of: "Ann", council: harness.council)?.failedAt == nil)
        #expect(try await work.emailFailures(team: "North", council: harness.council).isEmpty)
    }

    @Test("with two schedulers sweeping and sending at once, each recipient gets exactly one email for a breach")
    func twoSchedulers() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        try harness.setEmail("Meg", "meg@council.example")
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        for _ in 0..<5 { try await harness.openCase() }
        let other = try harness.database.pool(size: 4)
        defer { other.shutdown() }
        let configuration = sink.configuration()
        async let first = harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
        async let second = harness.sweeper(pool: other, emails: true).sweep(today: day("2025-04-15"))
        let swept = try await [first, second]
        #expect(swept.map(\.breaches).reduce(0, +) == 5)
        var settings = EmailSettings(transport: .smtp(configuration), from: Self.from)
        settings.retry.batchSize = 2
        let one = try EmailDispatcher(pool: harness.pool, settings: settings)
        let two = try EmailDispatcher(pool: other, settings: settings)
        async let a = one.dispatchOnce()
        async let b = two.dispatchOnce()
        let reports = try await [a, b]
        #expect(reports.map(\.delivered).reduce(0, +) == 10)
        let messages = try sink.messages()
        #expect(messages.count == 10)
        #expect(Set(messages.compactMap { $0.headers["message-id"] }).count == 10)
        #expect(messages.filter { $0.rcptTos == ["ann@council.example"] }.count == 5)
    }

    @Test("a crash between claim and send sends the email once after the lease runs out; a crash after sending repeats it with the same Message-ID")
    func crashes() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        try await harness.openCase()
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
        let crashed = try dispatcher(harness, sink.configuration())
        // The claim is made and leased; the process dies before sending.
        let claimed = try await crashed.outbox.claim(council: harness.council)
        #expect(claimed.count == 1)
        // A restarted scheduler finds it leased: nothing is sent while the lease runs.
        let restarted = try dispatcher(harness, sink.configuration())
        #expect(try await restarted.dispatchOnce().claimed == 0)
        // The lease runs out (moved on here rather than waited for), and the email goes once.
        try harness.asOwner("UPDATE outbox SET leased_until = now() - interval '1 second' WHERE channel = 'email'")
        #expect(try await restarted.dispatchOnce().delivered == 1)
        #expect(try await restarted.dispatchOnce().claimed == 0)
        #expect(try sink.messages().count == 1)

        // A second breach: this time the process dies after the relay accepted it, before recording so.
        try harness.setEmail("Meg", "meg@council.example")
        try await harness.openCase(on: "2025-03-04")
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-16"))
        let item = try #require(try await crashed.outbox.claim(council: harness.council).first { $0.recipient == "Ann" })
        guard case .sent = await crashed.send(item) else {
            Issue.record("not sent")
            return
        }
        try harness.asOwner("UPDATE outbox SET leased_until = now() - interval '1 second' WHERE delivery_id = $1", [item.id])
        _ = try await restarted.dispatchOnce()
        let annsSecond = try sink.messages().filter {
            $0.rcptTos == ["ann@council.example"] && $0.headers["x-ehcp-delivery"] == item.id.uuidString.lowercased()
        }
        #expect(annsSecond.count == 2)
        #expect(Set(annsSecond.compactMap { $0.headers["message-id"] }).count == 1)
    }

    @Test("the daily digest: sent once a day however often it is written, only when there is something in it, and never to someone who opted out")
    func digest() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        try harness.setEmail("Meg", "meg@council.example")
        try harness.asOwner("UPDATE users SET email_digest = false WHERE name = 'Meg'")
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        let due = try await harness.openCase(on: "2025-03-03")  // R-DECIDE-6W due Monday 14 April 2025
        let overdue = try await harness.openCase(on: "2025-02-24")  // due Monday 7 April 2025
        let writer = DigestWriter(pool: harness.pool, links: SchedulerHarness.links)
        // Nothing due within the week on 20 March: no digest.
        #expect(try await writer.write(day: day("2025-03-20")) == 0)
        let other = try harness.database.pool(size: 2)
        defer { other.shutdown() }
        async let a = writer.write(day: day("2025-04-09"))
        async let b = DigestWriter(pool: other, links: SchedulerHarness.links).write(day: day("2025-04-09"))
        #expect(try await [a, b].reduce(0, +) == 1)
        #expect(try await writer.write(day: day("2025-04-09")) == 0)
        #expect(try await dispatcher(harness, sink.configuration()).dispatchOnce().delivered == 1)
        let messages = try sink.messages()
        #expect(messages.count == 1)
        let digest = try #require(messages.first)
        #expect(digest.rcptTos == ["ann@council.example"])
        #expect(digest.headers["subject"] == "Your EHCP deadlines: Wednesday 9 April 2025")
        let body = digest.body
        let (dueRef, overdueRef) = (try await reference(harness, due), try await reference(harness, overdue))
        let dueSoon = try #require(body.range(of: "Due in the next 7 days (1)"))
        let overdueHeading = try #require(body.range(of: "Overdue (1)"))
        let (dueAt, overdueAt) = (try #require(body.range(of: dueRef), "\(body)"), try #require(body.range(of: overdueRef), "\(body)"))
        #expect(dueAt.lowerBound > dueSoon.upperBound && dueAt.lowerBound < overdueHeading.lowerBound)
        #expect(overdueAt.lowerBound > overdueHeading.upperBound)
        #expect(body.contains("due 14 April 2025") && body.contains("due 7 April 2025"))
        // Meg opted out: a manager's digest would list the team's; she gets none.
        #expect(try await harness.count("SELECT count(*) FROM outbox WHERE recipient = 'Meg'") == 0)
        // Next day: a new digest (a day is one digest, not one ever).
        #expect(try await writer.write(day: day("2025-04-10")) == 1)
    }

    @Test("a clock missed after one digest is in the next: moved past on the 20th, listed on the 21st, never twice")
    func missedInDigest() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "ann@council.example")
        let caseId = try await harness.openCase(on: "2025-03-03")  // R-DECIDE-6W due 14 April
        let writer = DigestWriter(pool: harness.pool, links: SchedulerHarness.links)
        #expect(try await writer.write(day: day("2025-04-20")) == 1)  // overdue
        _ = try await harness.repository.record(
            CaseCommand(
                council: harness.council, caseId: caseId,
                command: LogEvent(.requestWithdrawn(Reason(reason: "moved away")), on: day("2025-04-20"), by: "Ann", today: day("2025-04-20"))),
            pool: harness.pool)
        #expect(try await harness.count("SELECT count(*) FROM deadlines WHERE status = 'missed' AND moved_past_on = '2025-04-20'") == 1)
        #expect(try await writer.write(day: day("2025-04-21")) == 1)
        #expect(try await writer.write(day: day("2025-04-22")) == 0)  // nothing due, overdue or newly missed
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        _ = try await dispatcher(harness, sink.configuration()).dispatchOnce()
        let bodies = try sink.messages().map(\.body)
        let reference = try await reference(harness, caseId)
        #expect(bodies.count == 2)
        #expect(bodies.filter { $0.contains("Missed since your last digest") && $0.contains(reference) }.count == 1)
        #expect(bodies.filter { $0.contains("Overdue (1)") }.count == 1)
    }

    @Test("a relay's policy refusal (5.7.1 relaying denied) is retried, not a bounce; a forged reply behind STARTTLS is refused")
    func relayRefusals() async throws {
        let harness = try SchedulerHarness()
        defer { harness.shutdown() }
        try harness.setEmail("Ann", "relay-denied@council.example")
        let sink = try SMTPSink(security: .startTLS)
        defer { sink.stop() }
        try await harness.openCase()
        _ = try await harness.sweeper(emails: true).sweep(today: day("2025-04-15"))
        let denied = try await dispatcher(harness, sink.configuration()).dispatchOnce()
        #expect(denied.failed == 1 && denied.dead == 0)
        #expect(try await AlertWork(pool: harness.pool).emailChoices(of: "Ann", council: harness.council)?.failedAt == nil)

        let injecting = try SMTPSink.injecting()
        defer { injecting.stop() }
        let client = try SMTPClient(injecting.configuration(trusted: false))
        let message = SMTPMessage(from: "a@council.example", to: "b@council.example", subject: "s", body: "b", id: "x", date: Date())
        await #expect { try await client.send(.init(from: "a@council.example", to: ["b@council.example"], message: message.text)) } throws: {
            "\($0)".contains("tampering")
        }
    }

    @Test("headers: a From with a non-ASCII or punctuated name keeps one address; a lone CR in the text never reaches the wire")
    func headers() {
        let welsh = SMTPMessage.mailbox("Cyngor Sir Ynys Môn <rhybuddion@ynysmon.example>")
        #expect(welsh.hasPrefix("=?UTF-8?B?") && welsh.hasSuffix(" <rhybuddion@ynysmon.example>"))
        #expect(SMTPMessage.mailbox("Smith, Jo <jo@council.example>") == #""Smith, Jo" <jo@council.example>"#)
        #expect(SMTPMessage.mailbox("EHCP alerts <ehcp@council.example>") == "EHCP alerts <ehcp@council.example>")
        #expect(SMTPMessage.mailbox("ehcp@council.example") == "ehcp@council.example")
        let text = SMTPMessage(from: "a@b.example", to: "c@d.example", subject: "s", body: "one\rtwo\n.three", id: "x", date: Date()).text
        #expect(text.contains("one two\r\n.three\r\n") && !text.replacingOccurrences(of: "\r\n", with: "").contains("\r"))
        #expect(SMTPMessage.dotStuffed(text).contains("\r\n..three\r\n"))
    }
}
