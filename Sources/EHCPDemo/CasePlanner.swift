import EHCPDomain

/// Draws one case's timeline: what happened on which day. The simulator then records it through
/// `decide`, so a planned event the service would refuse is dropped, never stored.
struct CasePlanner {
    let parameters: DemoParameters
    let caseworker: DemoCaseworker
    /// The council's caseworkers, for reassignments.
    let colleagues: [DemoCaseworker]
    var random: DemoRandom
    private(set) var plan: [(CivilDate, CaseEvent)] = []

    init(parameters: DemoParameters, caseworker: DemoCaseworker, colleagues: [DemoCaseworker], random: DemoRandom) {
        self.parameters = parameters
        self.caseworker = caseworker
        self.colleagues = colleagues
        self.random = random
    }

    /// Adds an event; an appealable decision is followed by its notice to the family, usually within the
    /// week and one time in ten a fortnight later (drawn from the day, so the caseload's other draws stay
    /// as they were).
    mutating func add(_ day: CivilDate, _ event: CaseEvent) {
        plan.append((day, event))
        if let decision = event.appealableDecision {
            let delay = day.dayNumber % 10 == 0 ? 14 : day.dayNumber % 5
            plan.append((day.adding(days: delay), .decisionNoticeSent(DecisionNoticeSent(decision: decision))))
        }
    }

    /// After the plan ceases nothing more happens to the case, except the notices of decisions already made,
    /// which the family is owed: those are sent the day the plan ceases, if not before.
    mutating func cease(on day: CivilDate) {
        add(day, .planCeased(PlanCeased(reason: random.pick(parameters.ceaseReasons))))
        let owed = plan.filter { entry in
            if case .decisionNoticeSent = entry.1 { entry.0 > day } else { false }
        }
        plan.removeAll { $0.0 > day }
        for (_, notice) in owed {
            guard case .decisionNoticeSent(let sent) = notice, plan.contains(where: { $0.1.appealableDecision == sent.decision }) else { continue }
            plan.append((day, notice))
        }
    }

    /// The whole life of a case opened on `requestOn`, up to `asOf` (later events are cut by the simulator).
    mutating func planCase(requestOn: CivilDate, childId: String, asOf: CivilDate) {
        add(requestOn, .requestReceived(RequestReceived(requestSource: random.pick(parameters.requestSources), childId: childId)))
        add(requestOn.adding(days: random.int(0...3)), .caseworkerAssigned(CaseworkerAssigned(caseworker: caseworker.name, team: caseworker.team)))
        let decisionDay = requestOn.adding(days: random.chance(parameters.decisionOnTime) ? random.int(20...42) : random.int(43...75))
        if random.chance(parameters.withdrawn) {
            add(requestOn.adding(days: random.int(10...120)), .requestWithdrawn(Reason(reason: "family moved away")))
            return
        }
        if random.chance(parameters.refused) {
            add(decisionDay, .decidedNotToAssess)
            planRefusal(decidedOn: decisionDay, requestOn: requestOn, asOf: asOf)
            return
        }
        add(decisionDay, .decidedToAssess)
        planAssessment(requestOn: requestOn, decidedOn: decisionDay, asOf: asOf)
    }

    private mutating func planRefusal(decidedOn: CivilDate, requestOn: CivilDate, asOf: CivilDate) {
        var day = decidedOn
        if random.chance(parameters.refusalMediation) {
            day = day.adding(days: random.int(10...30))
            add(day, .mediationRequested)
            day = day.adding(days: random.int(14...40))
            add(day, .mediationHeld)
            day = day.adding(days: random.int(1...6))
            add(day, .mediationCertificateIssued)
        }
        guard random.chance(parameters.refusalAppeal) else { return }
        day = day.adding(days: random.int(14...50))
        add(day, .appealLodged(AppealReference(appealType: .refusalToAssess)))
        day = day.adding(weeks: random.int(16...30))
        if random.chance(parameters.appealOrderedToAssess) {
            add(day, .tribunalOrderMade(TribunalOrderMade(order: .assess)))
            let decided = day.adding(days: random.int(5...20))
            add(decided, .decidedToAssess)
            planAssessment(requestOn: day, decidedOn: decided, asOf: asOf, underOrder: true)
        } else {
            add(day, .tribunalOrderMade(TribunalOrderMade(order: .dismissed)))
        }
    }

    /// Advice, outcomes, draft, consultation and the final plan; then the plan's maintenance.
    ///
    /// The final plan's week is drawn first (the national mixture); the draft precedes it, and every
    /// advice reply precedes the draft, so late advice makes plans late only as often as it does in life.
    private mutating func planAssessment(requestOn: CivilDate, decidedOn: CivilDate, asOf: CivilDate, underOrder: Bool = false) {
        let (_, low, high) = random.pick(parameters.finalPlanWeeks.map { ($0, $0.0) })
        let finalOn = max(requestOn.adding(days: 7 * low + random.int(0...(7 * (high - low)))), decidedOn.adding(weeks: 8))
        let draftOn = max(finalOn.adding(days: -random.int(15...42)), decidedOn.adding(weeks: 6))
        var adviceTypes: [AdviceType] = [.educational, .psychological]
        if random.chance(parameters.healthAdvice) { adviceTypes.append(.health) }
        if random.chance(parameters.socialCareAdvice) { adviceTypes.append(.socialCare) }
        for (index, type) in adviceTypes.enumerated() {
            let requested = decidedOn.adding(days: random.int(0...7))
            let id = "adv-\(index + 1)"
            add(requested, .adviceRequested(AdviceRequested(adviceId: id, adviceType: type, provider: "\(type.rawValue.capitalized) service")))
            let onTime = random.chance(parameters.adviceOnTime[type] ?? 0.6)
            let drawn = requested.adding(days: onTime ? random.int(21...42) : random.int(43...100))
            add(max(requested.adding(days: 1), min(drawn, draftOn.adding(days: -1))), .adviceReceived(AdviceReference(adviceId: id)))
        }
        if random.chance(parameters.outcomesMeeting) {
            add(min(decidedOn.adding(days: random.int(28...56)), draftOn), .outcomesMeetingHeld)
        }
        if !underOrder && random.chance(parameters.exceptions) {
            let from = decidedOn.adding(days: random.int(7...40))
            let ground: ExceptionGround = random.chance(0.5) ? .absence : .personalCircumstances
            let exception = ExceptionRecorded(
                exceptionId: "exc-1", ground: ground, rules: [.final20W],
                from: ground == .absence ? from : nil, to: ground == .absence ? from.adding(days: random.int(28...60)) : nil,
                reason: ground == .absence ? "family abroad" : "bereavement in the family")
            let recordedOn = from.adding(days: random.int(0...10))
            add(recordedOn, .exceptionRecorded(exception))
            add(recordedOn.adding(days: random.int(1...7)), .familyToldOfException(ExceptionReference(exceptionId: "exc-1")))
        }
        if random.chance(parameters.assessedNoPlan) {
            add(draftOn, .decidedNotToIssuePlan)
            return
        }
        add(draftOn, .draftPlanIssued)
        let consulted = draftOn.adding(days: random.int(1...5))
        add(consulted, .settingConsulted(SettingConsulted(consultationId: "con-1", setting: "Demo Primary School")))
        let answer = consulted.adding(days: random.chance(parameters.consultationOnTime) ? random.int(5...15) : random.int(16...30))
        add(min(answer, finalOn), .consultationResponseReceived(ConsultationResponseReceived(consultationId: "con-1", response: .agreed)))
        add(finalOn, .finalPlanIssued(PlanIssued(namedSetting: "Demo Primary School")))
        planMaintenance(planOn: finalOn, asOf: asOf)
    }
}
