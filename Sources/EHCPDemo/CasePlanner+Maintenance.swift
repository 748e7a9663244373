import EHCPDomain

extension CasePlanner {
    /// Annual reviews (with amendments), a phase transfer, appeals on contents, and cessation.
    mutating func planMaintenance(planOn: CivilDate, asOf: CivilDate) {
        if random.chance(parameters.planAppeal) {
            let lodged = planOn.adding(days: random.int(20...55))
            add(lodged, .appealLodged(AppealReference(appealType: .planContents)))
            let order = lodged.adding(weeks: random.int(16...30))
            add(order, .tribunalOrderMade(TribunalOrderMade(order: .amendNeedsProvision)))
            add(order.adding(days: random.int(20...50)), .amendedPlanIssued(PlanIssued()))
        }
        if random.chance(parameters.phaseTransfer) {
            let marked = planOn.adding(days: random.int(30...200))
            let transferYear = marked.month >= 9 ? marked.year + 1 : marked.year + (marked.month >= 3 ? 1 : 0)
            let post16 = random.chance(0.2)
            add(marked, .phaseTransferDue(PhaseTransferDue(transferYear: transferYear, kind: post16 ? .post16 : .school)))
            let deadline = CivilDate(year: transferYear, month: post16 ? 3 : 2, day: post16 ? 30 : 14)!
            let amended = deadline.adding(days: random.chance(parameters.phaseTransferOnTime) ? -random.int(0...40) : random.int(1...45))
            add(max(amended, marked.adding(days: 1)), .amendedPlanIssued(PlanIssued(namedSetting: post16 ? "Demo College" : "Demo Secondary School")))
        }
        var periodStart = planOn
        var review = 1
        while periodStart < asOf {
            if random.chance(parameters.ceasedPerYear) {
                cease(on: periodStart.adding(days: random.int(30...330)))
                return
            }
            if random.chance(parameters.caseworkerChangePerYear) {
                let team = colleagues.filter { $0.team == caseworker.team }
                let next = team[random.int(0...team.count - 1)]
                add(periodStart.adding(days: random.int(30...300)), .caseworkerAssigned(CaseworkerAssigned(caseworker: next.name, team: next.team)))
            }
            let due = periodStart.adding(months: 12).adding(days: -1)
            let decision = due.adding(days: random.chance(parameters.reviewOnTime) ? -random.int(0...45) : random.int(1...120))
            let decisionDelay = random.chance(parameters.reviewDecisionOnTime) ? random.int(3...28) : random.int(29...60)
            let meeting = decision.adding(days: -decisionDelay)
            let id = "rev-\(review)"
            add(
                meeting.adding(days: -(random.chance(0.9) ? random.int(14...28) : random.int(7...13))),
                .reviewInvitationsSent(ReviewReference(reviewId: id)))
            add(meeting, .reviewMeetingHeld(ReviewReference(reviewId: id)))
            add(meeting.adding(days: random.int(5...20)), .reviewReportReceived(ReviewReference(reviewId: id)))
            let outcome = random.pick(parameters.reviewOutcomes)
            add(decision, .reviewDecisionMade(ReviewDecisionMade(reviewId: id, decision: outcome)))
            switch outcome {
            case .amend:
                add(decision, .amendmentNoticeIssued(OptionalReviewReference(reviewId: id)))
                if random.chance(0.9) {
                    add(decision.adding(days: random.int(16...75)), .amendedPlanIssued(PlanIssued()))
                } else {
                    let notToAmend = decision.adding(days: random.int(16...50))
                    // Another amended plan (a phase transfer, a tribunal order) in between settles the notice.
                    let settled = plan.contains { day, event in
                        if case .amendedPlanIssued = event { day >= decision && day <= notToAmend } else { false }
                    }
                    if !settled { add(notToAmend, .decidedNotToAmend(OptionalReviewReference(reviewId: id))) }
                }
            case .cease:
                cease(on: decision.adding(days: random.int(14...42)))
                return
            case .maintain:
                break
            }
            periodStart = decision
            review += 1
        }
    }
}
