import EHCPDomain
import Foundation
import Postgres

extension StoredEvent {
    /// The domain event, upcast from its stored schema version. Stored rows are read leniently.
    public func recorded() throws(CaseError) -> RecordedEvent {
        try RecordedEvent.stored(
            version: version, event: EventCodec.decodeStored(type: type, json: data, schemaVersion: schemaVersion), occurredOn: occurredOn,
            actor: actor)
    }
}

extension RecordedEvent {
    /// The row to append.
    public var newEvent: NewEvent {
        NewEvent(
            type: event.typeName, schemaVersion: EventCodec.currentSchemaVersion, data: EventCodec.encodedData(event),
            occurredOn: occurredOn.description, actor: actor)
    }

    /// A stored event whose payload is already decoded.
    static func stored(version: Int, event: CaseEvent, occurredOn: String, actor: String) throws(CaseError) -> RecordedEvent {
        guard let date = CivilDate(iso: occurredOn) else {
            throw CaseError(.invalidField, field: "occurredOn", value: occurredOn, "stored date is unreadable")
        }
        return RecordedEvent(version: version, occurredOn: date, event: event, actor: actor)
    }
}

extension EventStore {
    /// Cases' histories ready to fold, in one round trip: only the columns the domain reads (the write
    /// path reads a stream per command; positions, timestamps and transaction ids are for other readers).
    /// Cases without events (or of another council) are absent.
    public func readHistories(caseIds: [UUID], on connection: PostgresConnection) throws -> [UUID: [RecordedEvent]] {
        let statement = Self.historiesStatement(caseIds: caseIds)
        return try histories(try connection.query(statement.sql, statement.parameters))
    }

    /// The statement `readHistories` runs, for a caller that sends it in a pipeline with others.
    static func historiesStatement(caseIds: [UUID]) -> PostgresConnection.Statement {
        .init(
            """
            SELECT case_id, version, type, schema_version, data::text, occurred_on::text, actor
            FROM events WHERE case_id = ANY($1::uuid[]) ORDER BY case_id, version
            """,
            [PostgresArray(caseIds.map(\.postgresText))])
    }

    /// Each case's events after a version (0 for its whole stream), for a caller that holds the earlier
    /// ones folded (`CaseStateCache`). Its rows read as `historiesStatement`'s do; a case with no newer
    /// events is absent.
    static func eventsStatement<Cases: Sequence>(after versions: Cases) -> PostgresConnection.Statement where Cases.Element == (UUID, Int) {
        let versions = Array(versions)
        return .init(
            """
            SELECT e.case_id, e.version, e.type, e.schema_version, e.data::text, e.occurred_on::text, e.actor
            FROM unnest($1::uuid[], $2::int[]) AS k(case_id, after)
            JOIN events e ON e.case_id = k.case_id AND e.version > k.after
            ORDER BY e.case_id, e.version
            """,
            [PostgresArray(versions.map(\.0.postgresText)), PostgresArray(versions.map { String($0.1) })])
    }

    /// The histories (or newer events) in the rows of `historiesStatement` (or `eventsStatement`).
    func histories(_ rows: PostgresRows) throws -> [UUID: [RecordedEvent]] {
        var histories: [UUID: [RecordedEvent]] = [:]
        // Rows come case by case: each case's id is read once and its events gathered before storing them.
        var current: (text: String, id: UUID)?
        var events: [RecordedEvent] = []
        // Every payload of the batch in one call: the payload cache is locked twice, not once per event.
        let decoded = try payloads.events(
            rows.rows.map { row throws(PostgresError) in
                StoredPayloads.Key(type: try row.decode(at: 2), schemaVersion: try row.decode(at: 3), data: try row.decode(at: 4))
            })
        for (row, payload) in zip(rows.rows, decoded) {
            let text = row.values[0]
            if text != current?.text {
                if let current { histories[current.id] = events }
                current = (text ?? "", try row.decode(UUID.self, at: 0))
                events = []
            }
            events.append(
                try RecordedEvent.stored(
                    version: try row.decode(at: 1), event: payload, occurredOn: try row.decode(at: 5), actor: try row.decode(at: 6)))
        }
        if let current { histories[current.id] = events }
        return histories
    }
}
