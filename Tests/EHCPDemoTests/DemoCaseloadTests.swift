import EHCPDemo
import EHCPDomain
import Foundation
import Testing

@Suite("Demo caseload")
struct DemoCaseloadTests {
    static let decider = CaseDecider(engine: DeadlineEngine(calendar: try! WorkingDayCalendar.englandAndWales()))
    static let asOf = CivilDate(iso: "2026-11-02")!
    static let caseload = DemoCaseload(seed: 42, asOf: asOf, councils: 2, decider: decider)
    /// 2,000 cases, generated once for the distribution checks.
    static let sample: [DemoCase] = (0..<2000).map { caseload.generate($0) }

    @Test("a seed reproduces the same histories; another seed does not")
    func deterministic() {
        let again = DemoCaseload(seed: 42, asOf: Self.asOf, councils: 2, decider: Self.decider)
        let other = DemoCaseload(seed: 43, asOf: Self.asOf, councils: 2, decider: Self.decider)
        for index in [0, 7, 1999] {
            #expect(again.generate(index).history == Self.sample[index].history)
            #expect(again.generate(index).caseId == Self.sample[index].caseId)
            #expect(again.generate(index).child == Self.sample[index].child)
        }
        #expect(other.generate(7).history != Self.sample[7].history)
    }

    @Test("every event of 2,000 generated cases reads back from its stored text unchanged, through the strict path too")
    func storedRoundTrip() throws {
        var kinds = Set<EventKind>()
        for recorded in Self.sample.flatMap(\.history) {
            let text = EventCodec.encodedData(recorded.event)
            #expect(try EventCodec.decodeStored(type: recorded.event.typeName, json: text, schemaVersion: 1) == recorded.event)
            #expect(try EventCodec.decode(type: recorded.event.typeName, data: JSONValue.parse(text)) == recorded.event)
            kinds.insert(recorded.event.kind)
        }
        #expect(kinds.count > 30)
    }

    @Test("every planned event passed the domain's validation, and histories are realistic in size")
    func validated() {
        let refused = Self.sample.flatMap(\.refused)
        #expect(refused.isEmpty, "\(refused.count) refused, e.g. \(refused.prefix(3))")
        let events = Self.sample.reduce(0) { $0 + $1.history.count }
        #expect((20...40).contains(events / Self.sample.count), "average \(events / Self.sample.count) events a case")
        #expect(Self.sample.allSatisfy { $0.history.allSatisfy { $0.occurredOn <= Self.asOf } })
    }

    @Test("the distributions land within their stated tolerances")
    func distributions() {
        var decided = 0
        var refused = 0
        var parents = 0
        var plans = 0
        var within20 = 0
        var over52 = 0
        var adviceOnTime: [AdviceType: (Int, Int)] = [:]
        for demo in Self.sample {
            let state = CaseState(history: demo.history)
            if case .requestReceived(let request) = demo.history[0].event, request.requestSource == .parent { parents += 1 }
            switch state.facts.assessment {
            case .refused:
                decided += 1
                refused += 1
            case .assess: decided += 1
            case .pending: break
            }
            let deadlines = state.deadlines(Self.decider.engine, asOf: Self.asOf).deadlines
            if let final = deadlines.first(where: { $0.rule == .final20W }), let metOn = final.metOn {
                plans += 1
                if metOn <= final.dueOn { within20 += 1 }
                if final.startedOn.days(until: metOn) > 52 * 7 { over52 += 1 }
            }
            for recorded in demo.history {
                guard case .adviceRequested(let advice) = recorded.event,
                    let clock = deadlines.first(where: { $0.rule == .advice6W && $0.key == advice.adviceId }), clock.metOn != nil
                else { continue }
                let (onTime, all) = adviceOnTime[advice.adviceType] ?? (0, 0)
                adviceOnTime[advice.adviceType] = (onTime + (clock.status == .met ? 1 : 0), all + 1)
            }
        }
        func share(_ part: Int, _ whole: Int) -> Double { Double(part) / Double(max(whole, 1)) }
        // Stated parameters: refused 25%, parents 50%, plans within 20 weeks about half, 3–10% past 52.
        // A refusal later ordered to assess counts as assessed, so the refused share sits a little lower.
        #expect(abs(share(refused, decided) - 0.23) < 0.04, "refused \(share(refused, decided))")
        #expect(abs(share(parents, Self.sample.count) - 0.50) < 0.04, "parents \(share(parents, Self.sample.count))")
        #expect(abs(share(within20, plans) - 0.50) < 0.08, "within 20 weeks \(share(within20, plans))")
        #expect((0.02...0.10).contains(share(over52, plans)), "over 52 weeks \(share(over52, plans))")
        let ep = adviceOnTime[.psychological].map { share($0.0, $0.1) } ?? 0
        for other in [AdviceType.educational, .health, .socialCare] {
            #expect(ep < (adviceOnTime[other].map { share($0.0, $0.1) } ?? 0), "psychology should be the latest advice")
        }
    }
}
