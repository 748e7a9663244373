import EHCPDomain
import Foundation

extension StoredEvent {
    /// The domain event, upcast from its stored schema version. Stored rows are read leniently.
    public func recorded() throws(CaseError) -> RecordedEvent {
        guard let date = CivilDate(iso: occurredOn) else {
            throw CaseError(.invalidField, field: "occurredOn", value: occurredOn, "stored date is unreadable")
        }
        let event = try EventCodec.decodeStored(type: type, json: Data(data.utf8), schemaVersion: schemaVersion)
        return RecordedEvent(version: version, occurredOn: date, event: event, actor: actor)
    }
}

extension RecordedEvent {
    /// The row to append.
    public var newEvent: NewEvent {
        NewEvent(
            type: event.typeName, schemaVersion: EventCodec.currentSchemaVersion, data: EventCodec.encodedData(event),
            occurredOn: occurredOn.description, actor: actor)
    }
}
