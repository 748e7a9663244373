import EHCPDomain

/// A visual clock, drawn as SVG on the server: a ruler of weeks from the day the clock started, a
/// marker for today, and each statutory step's due date with the date it happened. The deadline table
/// beside it says the same in words, so the picture is never the only way to read it.
struct Clock: Sendable {
    struct Tick {
        var x: Int
        var label: String?
    }
    struct Step {
        var y: Int
        var labelY: Int
        var label: String
        var dueX: Int
        var happenedX: Int?
        var happened: Bool
        var late: Bool
        var description: String
    }

    var id: String
    var title: String
    var summary: String
    var width = 760
    var height: Int
    var rulerY: Int
    var ticks: [Tick]
    var steps: [Step]
    var todayX: Int?
    var todayLabelX: Int

    static let left = 250
    static let right = 740

    /// The 20-week assessment's clock (while it applies) and the current annual review's.
    static func clocks(_ deadlines: [Deadline], facts: CaseFacts, today: CivilDate) -> [Clock] {
        var clocks: [Clock] = []
        let assessment: Set<RuleID> = [.decide6W, .advice6W, .outcomesLocal, .noPlan16W, .draftLocal, .final20W]
        if let opened = facts.openedOn, facts.openedBy != .transferredIn {
            let steps = deadlines.filter { assessment.contains($0.rule) && $0.startedOn >= opened && $0.status != .cancelled }
            if !steps.isEmpty {
                clocks.append(
                    Clock(
                        id: "assessment-clock", title: "The 20-week assessment", start: opened, weeks: 20, steps: steps, today: today))
            }
        }
        let reviews = deadlines.filter { $0.rule == .review12M }
        if let review = reviews.max(by: { $0.startedOn < $1.startedOn }) {
            let cycle = deadlines.filter {
                [.review12M, .reviewReport2W, .reviewDecide4W, .amendFinal8W].contains($0.rule) && $0.startedOn >= review.startedOn
            }
            let weeks = max(52, (review.startedOn.days(until: cycle.map(\.dueOn).max() ?? review.dueOn) + 6) / 7)
            clocks.append(
                Clock(id: "review-clock", title: "The current review cycle", start: review.startedOn, weeks: weeks, steps: cycle, today: today))
        }
        return clocks
    }

    init(id: String, title: String, start: CivilDate, weeks minimum: Int, steps deadlines: [Deadline], today: CivilDate) {
        let lastDay = max(start.adding(weeks: minimum), deadlines.map(\.dueOn).max() ?? start, deadlines.compactMap(\.metOn).max() ?? start)
        let weeks = max(minimum, (start.days(until: lastDay) + 6) / 7)
        let days = Double(weeks * 7)
        func x(_ date: CivilDate) -> Int {
            let offset = min(max(Double(start.days(until: date)), 0), days)
            return Self.left + Int(offset / days * Double(Self.right - Self.left))
        }
        self.id = id
        self.title = title
        let every = weeks <= 24 ? 2 : 8
        ticks = stride(from: 0, through: weeks, by: 1).map { week in
            Tick(x: Self.left + Int(Double(week * 7) / days * Double(Self.right - Self.left)), label: week % every == 0 ? "\(week)" : nil)
        }
        rulerY = 40
        steps = deadlines.enumerated().map { index, deadline in
            let y = 70 + index * 28
            let label = deadline.rule.title + (deadline.key.map { " (\($0))" } ?? "")
            let happened = deadline.metOn.map { "done \($0.long)" } ?? "not done yet"
            return Step(
                y: y, labelY: y + 4, label: label, dueX: x(deadline.dueOn), happenedX: deadline.metOn.map(x), happened: deadline.metOn != nil,
                late: deadline.metOn.map { $0 > deadline.dueOn } ?? false, description: "\(label): due \(deadline.dueOn.long), \(happened)")
        }
        height = 80 + deadlines.count * 28
        let inRange = today >= start && today <= start.adding(days: Int(days))
        todayX = inRange ? x(today) : nil
        todayLabelX = min((todayX ?? 0) + 4, Self.right - 40)
        summary =
            "Weeks since \(start.long). " + steps.map(\.description).joined(separator: ". ")
            + (inRange ? ". Today is week \(start.days(until: today) / 7)." : ".")
    }
}
