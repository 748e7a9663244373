import EHCPDomain
import Foundation
import Postgres

extension CaseRepository {
    /// What recording commands on one of a batch of locked cases produced.
    public struct LockedOutcome: Sendable {
        public var caseId: UUID
        /// The case after every recorded event.
        public var state: CaseState
        /// Each recorded command's event, with the version of its last event.
        public var recorded: [(event: CaseEvent, version: Int)] = []
        /// The commands the domain refused, and why: nothing of theirs was written.
        public var refused: [(event: CaseEvent, error: CaseError)] = []
    }

    /// Records commands on many cases the caller has locked (`FOR UPDATE`) and loaded in this transaction:
    /// the scheduler's batch. Each case's commands are decided in turn, each on the state the one before
    /// left, and every case's events and projections are sent in one round trip, whatever the number of
    /// cases (at 1,000,000 cases a sweep of 10,000 breaches one case at a time took 7 to 10 s). A command
    /// the domain refuses is reported and skipped. The append's head check still guards each case.
    public func record(
        locked cases: [(caseId: UUID, state: CaseState, commands: [LogEvent])], council: UUID, on connection: PostgresConnection
    ) throws -> [LockedOutcome] {
        var appends = EventRows()
        var projections = ProjectionChanges()
        var outcomes: [LockedOutcome] = []
        for (caseId, start, commands) in cases {
            var outcome = LockedOutcome(caseId: caseId, state: start)
            var events: [RecordedEvent] = []
            for command in commands {
                let decision = Result { () throws(CaseCommandError) in try decide(state: outcome.state, command: command, expectedVersion: nil) }
                switch decision {
                case .success(let (new, next)):
                    events += new
                    outcome.state = next
                    outcome.recorded.append((command.event, next.version))
                case .failure(.rejected(let error)): outcome.refused.append((command.event, error))
                case .failure(let error): throw error
                }
            }
            if !events.isEmpty {
                appends.add(caseId: caseId, from: start.version, events: events.map(\.newEvent))
                projections.add(
                    council: council, caseId: caseId, reference: nil, childId: nil, previous: start, state: outcome.state, engine: decider.engine)
            }
            outcomes.append(outcome)
        }
        if outcomes.contains(where: { !$0.recorded.isEmpty }) {
            try connection.pipeline([appends.statement(council: council)] + projector.statements(projections))
        }
        return outcomes
    }
}
