/// Each rule in plain English, with the law or guidance it comes from, for people reading a case page,
/// an alert or a refusal (statutory-timescales.md §2).
extension RuleID {
    /// What the deadline is for, in a few plain words.
    public var title: String { description.title }
    /// Where the rule comes from (a regulation of the SEND Regulations 2014 unless it says otherwise).
    public var source: String { description.source }

    private var description: (title: String, source: String) {
        switch self {
        case .decide6W: ("Decide whether to assess", "regulations 4(1) and 5(1)")
        case .advice6W: ("Advice received", "regulation 8(1)")
        case .outcomesLocal: ("Outcomes meeting held", "local target")
        case .noPlan16W: ("Tell the family no plan will be issued", "regulation 10(1)")
        case .draftLocal: ("Draft plan issued", "local target")
        case .draft15D: ("Family's 15 days to comment on the draft", "regulation 13(1)")
        case .consult15D: ("School or college replies to consultation", "SEND Code of Practice 9.83")
        case .final20W: ("Final plan issued within 20 weeks", "regulation 13(2)")
        case .reassessDecide15D: ("Decide whether to reassess", "regulations 24 and 25")
        case .reassessFinal14W: ("Final plan after reassessment", "regulation 27(2)")
        case .review12M: ("Annual review", "Children and Families Act 2014 s.44(1)")
        case .reviewNotice2W: ("Review invitations 2 weeks before the meeting", "regulations 20(3) and 21(3)")
        case .reviewReport2W: ("Review report sent", "regulations 20(7) and 21(7)")
        case .reviewDecide4W: ("Review decision made", "regulation 20(10)")
        case .amend15D: ("Family's 15 days to comment on amendments", "regulation 22(2)")
        case .amendFinal8W: ("Amended plan issued", "regulation 22(3)")
        case .phase15Feb: ("Phase transfer plan by 15 February", "regulation 18(1)(b)")
        case .phase31Mar: ("Post-16 transfer plan by 31 March", "regulation 18(1)(a)")
        case .phasePost16FiveMonths: ("Post-16 transfer plan 5 months ahead", "regulation 18(2)")
        case .transferHandover15WD: ("Plan handed to the new council", "regulation 15(2)")
        case .transferNotice6W: ("Tell the family about the transferred plan", "regulation 15(4)")
        case .transferReview: ("First review of a transferred plan", "regulation 15(5)")
        case .appealWindow: ("Family's deadline to appeal", "Tribunal Procedure Rules r.20(1)(c)")
        case .decisionNotice5WD: ("Decision notice, with appeal rights, sent to the family", "Children and Families Act 2014 s.51")
        case .mediationArrange30D: ("Mediation arranged", "regulations 35 to 37")
        case .mediationCert3WD: ("Mediation certificate issued", "regulations 34 and 39")
        case .orderAssessNotify2W: ("Tell the family of the assessment ordered", "regulation 44(2)(b)")
        case .orderAssessNoPlan10W: ("Decide not to issue a plan after an order to assess", "regulation 44(2)(b)")
        case .orderAssessFinal14W: ("Final plan after an order to assess", "regulation 44(2)(b)")
        case .orderPlanDraft5W: ("Draft plan after an order to make one", "regulation 44(2)(c)")
        case .orderPlanFinal11W: ("Final plan after an order to make one", "regulation 44(2)(c)")
        case .orderAmend5W: ("Amended plan after an order", "regulation 44(2)(e)")
        case .orderPlacement2W: ("Named school changed after an order", "regulation 44(2)(f)")
        case .orderCease: ("Plan ceased after the appeal was dismissed", "regulation 44(2)(a)")
        case .unopposedAssessNotify2W: ("Tell the family of the assessment (appeal conceded)", "regulation 45")
        case .unopposedAssessNoPlan10W: ("Decide not to issue a plan (appeal conceded)", "regulation 45")
        case .unopposedAssessFinal14W: ("Final plan (appeal conceded)", "regulation 45")
        case .unopposedPlanDraft5W: ("Draft plan (appeal conceded)", "regulation 45")
        case .unopposedPlanFinal11W: ("Final plan after a draft (appeal conceded)", "regulation 45")
        case .unopposedAmend5W: ("Amended plan (appeal conceded)", "regulation 45")
        case .unopposedPlacement2W: ("Named school changed (appeal conceded)", "regulation 45")
        }
    }
}
