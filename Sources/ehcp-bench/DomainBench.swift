import ArgumentParser
import EHCPDomain
import Foundation

/// `ehcp-bench domain`: folding a 60-event history and computing its deadlines (target < 50 µs).
struct DomainBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "domain", abstract: "Fold + deadlines for a 60-event case.")

    @Option(help: "Iterations to time.")
    var iterations = 20_000

    @ArgumentParser.Flag(help: "Time only the deadline computation (for profiling).")
    var deadlinesOnly = false

    func run() throws {
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let history = try Self.sixtyEventHistory(CaseDecider(engine: engine))
        let today = CivilDate(iso: "2028-06-01")!
        let encoded = history.map { (type: $0.event.typeName, data: EventCodec.encodedData($0.event)) }
        print("history: \(history.count) events; \(iterations) iterations each (a 60-event JSON decode is the reference)")
        var sink = 0
        func time(_ label: String, _ body: () throws -> Int) rethrows {
            var samples = Samples()
            for _ in 0..<(iterations / 10) { sink &+= try body() }  // warm up
            for _ in 0..<iterations {
                let start = ContinuousClock.now
                sink &+= try body()
                samples.record(ContinuousClock.now - start)
            }
            print(
                "\(label.padding(toLength: 50, withPad: " ", startingAt: 0)) mean \(format(samples.mean / 1000, 2)) µs   p50 \(format(samples.percentile(0.5) / 1000, 2)) µs   p99 \(format(samples.percentile(0.99) / 1000, 2)) µs"
            )
        }
        let effective = CaseState(history: history).effective
        if deadlinesOnly {
            time("deadlines only, from the effective history") { engine.report(for: effective, asOf: today).deadlines.count }
            return
        }
        try time("reference: decode 60 stored events from JSON") {
            try encoded.reduce(0) { count, row in
                _ = try EventCodec.decodeStored(type: row.type, json: row.data, schemaVersion: 1)
                return count + 1
            }
        }
        time("deadlines only, from the effective history") { engine.report(for: effective, asOf: today).deadlines.count }
        time("fold only (CaseState)") { CaseState(history: history).version }
        time("fold + deadlines (target < 50 µs)") {
            CaseState(history: history).deadlines(engine, asOf: today).deadlines.count
        }
        if sink == 42 { print("") }
    }

    /// A plan's life: assessment with advice, draft and final, three annual reviews with amendments,
    /// a phase transfer, consultations, mediation and caseworker changes: 60 events through `decide`.
    static func sixtyEventHistory(_ decider: CaseDecider) throws -> [RecordedEvent] {
        var state = CaseState()
        let today = CivilDate(iso: "2028-06-01")!
        var events: [(String, CaseEvent)] = [
            ("2024-09-02", .requestReceived(RequestReceived(requestSource: .parent))),
            ("2024-09-03", .caseworkerAssigned(CaseworkerAssigned(caseworker: "Ann", team: "North"))),
            ("2024-10-07", .decidedToAssess),
        ]
        for (index, type) in AdviceType.allCases.enumerated() {
            events.append(("2024-10-08", .adviceRequested(AdviceRequested(adviceId: "a\(index)", adviceType: type))))
        }
        for index in AdviceType.allCases.indices {
            events.append(("2024-11-1\(index)", .adviceReceived(AdviceReference(adviceId: "a\(index)"))))
        }
        events += [
            ("2024-11-18", .outcomesMeetingHeld), ("2024-12-02", .draftPlanIssued),
            ("2024-12-03", .settingConsulted(SettingConsulted(consultationId: "s1", setting: "Oak"))),
            ("2024-12-10", .consultationResponseReceived(ConsultationResponseReceived(consultationId: "s1", response: .agreed))),
            ("2025-01-13", .finalPlanIssued(PlanIssued(namedSetting: "Oak"))),
            ("2025-02-01", .mediationRequested), ("2025-02-20", .mediationHeld), ("2025-02-21", .mediationCertificateIssued),
        ]
        for (year, review) in [(2025, "r1"), (2026, "r2"), (2027, "r3")] {
            events += [
                ("\(year)-11-03", .reviewInvitationsSent(ReviewReference(reviewId: review))),
                ("\(year)-11-17", .reviewMeetingHeld(ReviewReference(reviewId: review))),
                ("\(year)-11-28", .reviewReportReceived(ReviewReference(reviewId: review))),
                ("\(year)-12-08", .reviewDecisionMade(ReviewDecisionMade(reviewId: review, decision: .amend))),
                ("\(year)-12-08", .amendmentNoticeIssued(OptionalReviewReference(reviewId: review))),
                ("\(year + 1)-01-12", .amendedPlanIssued(PlanIssued())),
                ("\(year + 1)-01-13", .caseworkerAssigned(CaseworkerAssigned(caseworker: "cw\(year)", team: "North"))),
            ]
        }
        events.append(("2027-06-01", .phaseTransferDue(PhaseTransferDue(transferYear: 2028, kind: .school))))
        var day = 14
        while events.count < 60 {
            events.append(("2028-02-\(day)", .caseworkerAssigned(CaseworkerAssigned(caseworker: "cw\(day)", team: "South"))))
            day += 1
        }
        for (text, event) in events {
            for recorded in try decider.decide(state, LogEvent(event, on: CivilDate(iso: text)!, by: "bench", today: today)) {
                state.evolve(recorded)
            }
        }
        return state.history
    }
}
