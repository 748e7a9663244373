import EHCPAPI
import EHCPDomain
import EHCPServer
import EHCPStore
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Postgres
import TestSupport

/// A real PostgreSQL database, two councils, one user of each role, and the API router over them, with
/// today fixed so that statutory dates are predictable.
struct APIHarness: Sendable {
    let database: TestDatabase
    let pool: PostgresPool
    let councilA: UUID
    let councilB: UUID
    /// Tokens by user: caseworker, caseworker2 (same team), manager, admin, auditor in A; caseworkerB in B.
    let tokens: [String: String]
    let deps: APIDependencies
    static let today = CivilDate(iso: "2025-05-01")!

    init(
        today: CivilDate = APIHarness.today, database: TestDatabase? = nil, configure: (inout ServiceConfiguration) -> Void = { _ in },
        logger: () -> Logger = { Logger(label: "ehcp") }
    ) throws {
        self.database = try database ?? TestDatabase.make()
        councilA = try self.database.addCouncil(code: "A")
        councilB = try self.database.addCouncil(code: "B")
        let owner = try self.database.connect()
        defer { owner.close() }
        let directory = UserDirectory()
        var tokens: [String: String] = [:]
        for (name, role, team, council) in [
            ("Ann", UserRole.caseworker, "North", councilA), ("Ben", .caseworker, "North", councilA), ("Meg", .manager, "North", councilA),
            ("Ada", .admin, nil, councilA), ("Aud", .auditor, nil, councilA), ("Bob", .caseworker, "North", councilB),
        ] {
            let user = try directory.addUser(name: name, role: role, team: team, council: council, on: owner)
            tokens[name] = try directory.createToken(userId: user, label: "test", validFor: 1, on: owner)
        }
        self.tokens = tokens
        // Wired as `ehcp serve` wires it (the composition root), without the scheduler and without sockets.
        var configuration = ServiceConfiguration(conninfo: self.database.serviceConninfo)
        configuration.connections = 4
        configuration.runsScheduler = false
        configuration.today = { today }
        configure(&configuration)
        service = try EHCPService(configuration, logger: logger())
        deps = service.api
        pool = deps.pool
    }

    let service: EHCPService

    var app: some ApplicationProtocol { service.application(logger: Logger(label: "ehcp.test")) }

    /// Runs `body` against the router (no sockets) and shuts the pool down afterwards.
    func run(_ body: @Sendable (Client) async throws -> Void) async throws {
        defer { pool.shutdown() }
        try await app.test(.router) { client in try await body(Client(client: client, tokens: tokens)) }
    }
}

/// A thin client: JSON in, status + JSON out, as a named user.
struct Client: Sendable {
    let client: any TestClientProtocol
    let tokens: [String: String]

    struct Reply: Sendable {
        var status: Int
        var headers: HTTPFields
        var text: String
        var json: [String: JSONValue] {
            (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)))?.objectValue ?? [:]
        }
        subscript(_ key: String) -> JSONValue? { json[key] }
        func string(_ key: String) -> String? { if case .string(let s)? = json[key] { s } else { nil } }
        func array(_ key: String) -> [[String: JSONValue]] {
            if case .array(let items)? = json[key] { items.compactMap(\.objectValue) } else { [] }
        }
    }

    @discardableResult
    func send(
        _ method: HTTPRequest.Method, _ uri: String, as user: String?, json: String? = nil, headers: [String: String] = [:]
    ) async throws -> Reply {
        var fields = HTTPFields()
        if let user { fields[.authorization] = "Bearer \(tokens[user] ?? user)" }
        if json != nil { fields[.contentType] = "application/json" }
        for (name, value) in headers { fields[.init(name)!] = value }
        return try await client.execute(uri: uri, method: method, headers: fields, body: json.map { ByteBuffer(string: $0) }) { response in
            Reply(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
    }

    /// Opens a case for a child and returns its id.
    func openCase(
        as user: String = "Ann", on day: String = "2025-03-03", forename: String = "Ada", surname: String = "Lovelace", reference: String? = nil
    ) async throws -> String {
        let referenceField = reference.map { #","reference":"\#($0)""# } ?? ""
        let reply = try await send(
            .post, "/v1/cases", as: user,
            json: """
                {"event":{"type":"RequestReceived","occurredOn":"\(day)","data":{"requestSource":"parent"}},
                 "child":{"forename":"\(forename)","surname":"\(surname)","bornOn":"2015-06-01"}\(referenceField)}
                """)
        guard reply.status == 201, let id = reply.string("caseId") else { throw Failure(reply: reply) }
        return id.lowercased()
    }

    func log(_ caseId: String, _ type: String, on day: String, data: String = "{}", as user: String = "Ann", headers: [String: String] = [:])
        async throws -> Reply
    {
        try await send(
            .post, "/v1/cases/\(caseId)/events", as: user, json: #"{"type":"\#(type)","occurredOn":"\#(day)","data":\#(data)}"#, headers: headers)
    }

    struct Failure: Error, CustomStringConvertible {
        var reply: Reply
        var description: String { "HTTP \(reply.status): \(reply.text)" }
    }
}

extension JSONValue {
    var string: String? { if case .string(let s) = self { s } else { nil } }
    var int: Int? { if case .number(let n) = self { Int(n) } else { nil } }
}
