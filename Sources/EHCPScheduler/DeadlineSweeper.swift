import EHCPDomain
import EHCPStore
import Foundation
import Logging
import Postgres

/// Finds deadlines whose reminder day or breach day has come and records `DeadlineReminderSent` or
/// `DeadlineBreached` on their cases, through the same decide-and-append path as every other event,
/// with the alerts for each in the same transaction.
///
/// Exactly once, even with several schedulers and after crashes: a batch locks its cases' stream heads
/// (`FOR UPDATE SKIP LOCKED`, so a second scheduler takes other cases), the domain refuses a breach or
/// reminder already recorded, and the append's expected version refuses a stale state. A batch is one
/// transaction: a crash loses the whole batch, never half of it, and the next sweep redoes it.
/// Catch-up after downtime needs nothing special: every row whose day has come is due, however old.
public struct DeadlineSweeper: Sendable {
    public let pool: PostgresPool
    public let repository: CaseRepository
    /// Cases locked and processed per transaction.
    public var batchSize: Int
    /// Concurrent transactions per council (each takes a disjoint hash partition of the cases).
    public var workers: Int
    /// Where alert emails link to; nil when the service sends no email (none are queued).
    public var emailLinks: EmailContent.Links?
    let logger: Logger

    public init(
        pool: PostgresPool, repository: CaseRepository, batchSize: Int = 100, workers: Int = 2, emailLinks: EmailContent.Links? = nil,
        logger: Logger = Logger(label: "ehcp.scheduler")
    ) {
        self.pool = pool
        self.emailLinks = emailLinks
        self.repository = repository
        self.batchSize = batchSize
        self.workers = max(1, workers)
        self.logger = logger
    }

    public struct Report: Sendable, Hashable {
        public var cases = 0
        public var breaches = 0
        public var reminders = 0
        public var alerts = 0
        /// Councils whose sweep failed (logged; retried at the next sweep). The others were still swept.
        public var councilsFailed = 0

        static func + (a: Report, b: Report) -> Report {
            Report(
                cases: a.cases + b.cases, breaches: a.breaches + b.breaches, reminders: a.reminders + b.reminders, alerts: a.alerts + b.alerts,
                councilsFailed: a.councilsFailed + b.councilsFailed)
        }
    }

    /// Sweeps every council as of `today` (Europe/London). A council whose sweep fails is logged and
    /// counted, and the others are swept all the same: one council's bad row never stalls another's breaches.
    public func sweep(today: CivilDate) async throws -> Report {
        let councils = try await pool.withConnection { connection in
            try connection.query("SELECT council_id FROM councils ORDER BY code").rows.map { try $0.decode(UUID.self, at: 0) }
        }
        var total = Report()
        for council in councils {
            do {
                total = total + (try await sweep(council: council, today: today))
            } catch {
                total.councilsFailed += 1
                logger.error("the sweep of one council failed; the others go on", metadata: ["council": "\(council)", "error": "\(error)"])
            }
        }
        return total
    }

    public func sweep(council: UUID, today: CivilDate) async throws -> Report {
        let report = try await withThrowingTaskGroup(of: Report.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    var report = Report()
                    while true {
                        let batch = try await pool.transaction(council: council) { connection in
                            try processBatch(council: council, today: today, worker: worker, on: connection)
                        }
                        report = report + batch.report
                        // Every claimed case leaves the due set (its rows are recomputed or cleared), so
                        // this ends; nothing claimed means nothing is due, or the rest is locked by
                        // another scheduler, which will finish it.
                        if batch.claimed == 0 { break }
                    }
                    return report
                }
            }
            return try await group.reduce(Report()) { $0 + $1 }
        }
        // The report counts' changes since the last sweep, folded so that reports sum few of them. The
        // sweep's work is committed by now: a failed fold is logged, and the next sweep folds them.
        do {
            _ = try await pool.transaction(council: council) { connection in try ReportCounts().fold(on: connection) }
        } catch {
            logger.warning("the report counts were not folded; the next sweep will", metadata: ["council": "\(council)", "error": "\(error)"])
        }
        return report
    }

    /// Locks up to `batchSize` due cases of this worker's partition and does their work.
    func processBatch(council: UUID, today: CivilDate, worker: Int, on connection: PostgresConnection) throws -> (claimed: Int, report: Report) {
        // Candidates in due order straight from the partial index (it stops after a few hundred rows),
        // then the lock: cases another scheduler holds are skipped, not waited for.
        let candidates = try connection.query(
            """
            SELECT case_id FROM deadlines
            WHERE next_alert_on <= $1::date AND (hashtext(case_id::text) & 2147483647) % $3 = $4
            ORDER BY next_alert_on
            LIMIT $2
            """,
            [today.description, batchSize * 4, workers, worker]
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        var unique: [UUID] = []
        var seen = Set<UUID>()
        for id in candidates where seen.insert(id).inserted && unique.count < batchSize { unique.append(id) }
        guard !unique.isEmpty else { return (0, Report()) }
        let claimed = try connection.query(
            "SELECT case_id FROM case_streams WHERE case_id = ANY($1::uuid[]) ORDER BY case_id FOR UPDATE SKIP LOCKED",
            [PostgresArray(unique.map(\.postgresText))]
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        guard !claimed.isEmpty else { return (0, Report()) }
        let histories = try repository.store.readHistories(caseIds: claimed, on: connection)
        let references = try Dictionary(
            connection.query(
                "SELECT case_id, reference FROM case_summary WHERE case_id = ANY($1::uuid[])", [PostgresArray(claimed.map(\.postgresText))]
            )
            .rows.map { (try $0.decode(UUID.self, at: 0), try $0.decode(String.self, at: 1)) },
            uniquingKeysWith: { a, _ in a })
        // Every claimed case's breaches and reminders, recorded together in one round trip.
        let work = claimed.map { caseId in
            let state = CaseState(history: histories[caseId] ?? [])
            let due = Self.due(state, engine: repository.decider.engine, today: today)
            return (caseId: caseId, state: state, commands: due.map { LogEvent($0.0, on: $0.1, by: "system", today: today) })
        }
        var alerts = AlertWriter(council: council, emailLinks: emailLinks)
        var report = Report(cases: claimed.count)
        for outcome in try repository.record(locked: work, council: council, on: connection) {
            for (event, error) in outcome.refused {
                logger.warning("scheduler could not record \(event.typeName)", metadata: ["case": "\(outcome.caseId)", "error": "\(error)"])
            }
            for (event, version) in outcome.recorded {
                if case .deadlineBreached = event { report.breaches += 1 } else { report.reminders += 1 }
                report.alerts += try alerts.add(
                    event, version: version, caseId: outcome.caseId, reference: references[outcome.caseId] ?? outcome.caseId.uuidString.lowercased(),
                    facts: outcome.state.facts, today: today, on: connection)
            }
        }
        try alerts.flush(on: connection)
        // Rows still due now have nothing the scheduler can do (an excused deadline that passed, a refused
        // record): stop them from being claimed again. The next change to the case recomputes them.
        try repository.projector.stopAlerts(caseIds: claimed, dueBy: today, on: connection)
        return (claimed.count, report)
    }

    /// What the scheduler owes a case as of `today`: the breach of each duty deadline that has passed
    /// unmet and unexcused (dated the day after it was due), and each reminder whose day has come while
    /// its deadline is still open (dated its own day, so a catch-up keeps the true dates).
    public static func due(_ state: CaseState, engine: DeadlineEngine, today: CivilDate) -> [(CaseEvent, CivilDate)] {
        var work: [(CaseEvent, CivilDate)] = []
        for deadline in state.timelessDeadlines(engine).deadlines {
            let offsets = engine.settings.reminderDays[deadline.rule] ?? []
            guard let next = state.nextAlertDay(for: deadline, reminderDays: offsets), next <= today else { continue }
            if today > deadline.dueOn {
                if deadline.exceptionIds.isEmpty {
                    work.append(
                        (
                            .deadlineBreached(DeadlineBreached(rule: deadline.rule, dueOn: deadline.dueOn, key: deadline.key)),
                            deadline.dueOn.adding(days: 1)
                        ))
                }
                continue
            }
            for offset in offsets.sorted(by: >) {
                let day = deadline.dueOn.adding(days: -offset)
                let reminder = DeadlineReminderSent(rule: deadline.rule, dueOn: deadline.dueOn, daysBefore: offset, key: deadline.key)
                if day <= today, !state.facts.reminders.contains(reminder) { work.append((.deadlineReminderSent(reminder), day)) }
            }
        }
        return work.sorted { $0.1 < $1.1 }
    }
}
