import EHCPDomain
import EHCPStore
import Foundation
import Hummingbird

/// `GET /v1/cases/{caseId}/timeline`: every event as recorded, with corrections shown against the
/// event they correct.
struct TimelineController: Sendable {
    let deps: APIDependencies

    func register(on group: RouterGroup<APIContext>) {
        group.get("cases/:caseId/timeline", use: timeline)
    }

    struct Entry: Encodable {
        var version: Int
        var type: String
        var occurredOn: String
        var recordedAt: Date
        var actor: String
        var data: JSONValue
        /// For a correction or retraction: the version it points at.
        var targets: Int?
        /// Versions of the corrections of this event, oldest first.
        var correctedBy: [Int]?
        /// The version of the retraction of this event.
        var retractedBy: Int?
        /// How the event now counts, when a correction changed it.
        var effective: Effective?
    }

    struct Effective: Encodable {
        var occurredOn: CivilDate
        var data: JSONValue
    }

    struct Timeline: Encodable {
        var caseId: UUID
        var version: Int
        var events: [Entry]
    }

    @Sendable func timeline(_ request: Request, context: APIContext) async throws -> Response {
        let user = try context.require(Roles.readCases, to: "read cases")
        let caseId = try CaseRequests.caseId(context)
        let stored = try await deps.cases.timeline(caseId, for: deps.caller(user, context))
        guard !stored.isEmpty else { throw Problem.notFound("caseId", caseId.lowercased) }
        let timeline = try Self.build(caseId: caseId, stored: stored)
        return JSONOutput.response(timeline, headers: [.eTag: CaseRequests.etag(timeline.version)])
    }

    static func build(caseId: UUID, stored: [StoredEvent]) throws -> Timeline {
        let recorded = try stored.map { event throws(CaseError) in try event.recorded() }
        var correctedBy: [Int: [Int]] = [:]
        var retractedBy: [Int: Int] = [:]
        var targets: [Int: Int] = [:]
        for event in recorded {
            switch event.event {
            case .eventCorrected(let correction):
                correctedBy[correction.targetVersion, default: []].append(event.version)
                targets[event.version] = correction.targetVersion
            case .eventRetracted(let retraction):
                retractedBy[retraction.targetVersion] = event.version
                targets[event.version] = retraction.targetVersion
            default: break
            }
        }
        let effective = Dictionary(EffectiveHistory.resolve(recorded).map { ($0.version, $0) }, uniquingKeysWith: { a, _ in a })
        let entries = zip(stored, recorded).map { row, event in
            let data = (try? JSONDecoder().decode(JSONValue.self, from: Data(row.data.utf8))) ?? .object([:])
            let changed = correctedBy[event.version] != nil ? effective[event.version] : nil
            return Entry(
                version: row.version, type: row.type, occurredOn: row.occurredOn, recordedAt: row.recordedAt, actor: row.actor, data: data,
                targets: targets[event.version], correctedBy: correctedBy[event.version], retractedBy: retractedBy[event.version],
                effective: changed.map { Effective(occurredOn: $0.occurredOn, data: .object(EventCodec.encode($0.event))) })
        }
        return Timeline(caseId: caseId, version: recorded.last?.version ?? 0, events: entries)
    }
}
