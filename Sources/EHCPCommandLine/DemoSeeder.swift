import EHCPDemo
import EHCPDomain
import EHCPStore
import Foundation
import Postgres

/// Generates and loads a demo caseload; shared by `ehcp demo` and `ehcp serve --demo`.
public struct DemoSeeder: Sendable {
    let conninfo: String
    let seed: UInt64
    let asOf: CivilDate
    let councils: Int

    public init(conninfo: String, seed: UInt64, asOf: CivilDate, councils: Int) {
        self.conninfo = conninfo
        self.seed = seed
        self.asOf = asOf
        self.councils = councils
    }

    public func seed(cases: Int, progress: Bool) async throws {
        let engine = DeadlineEngine(calendar: try WorkingDayCalendar.englandAndWales())
        let caseload = DemoCaseload(seed: seed, asOf: asOf, councils: councils, decider: CaseDecider(engine: engine))
        let pool = try PostgresPool(.init(conninfo: conninfo, size: 2, acquireTimeout: .seconds(600)))
        defer { pool.shutdown() }
        let councilIds = try await pool.withConnection { connection in try (0..<councils).map { try Self.council($0, on: connection) } }
        let firstId = caseload.generate(0).caseId
        if try await pool.withConnection({ try $0.query("SELECT 1 FROM case_streams WHERE case_id = $1", [firstId]).count }) > 0 {
            print("The demo caseload for seed \(seed) is already loaded; nothing to do (use another --seed for more).")
            return
        }
        print(
            "Generating \(cases) cases as of \(asOf) (seed \(seed), \(councils) council\(councils == 1 ? "" : "s")); every event goes through decide."
        )
        let start = ContinuousClock.now
        let chunk = 1_000
        var loadedCases = 0
        var loadedEvents = 0
        var refused = 0
        try await withThrowingTaskGroup(of: (Int, Int, Int).self) { group in
            var next = 0
            func submit() {
                guard next < cases else { return }
                let range = next..<min(cases, next + chunk)
                next = range.upperBound
                group.addTask {
                    let generated = range.map { caseload.generate($0) }
                    let bulk = generated.map { demo in
                        BulkCase(
                            caseId: demo.caseId, council: councilIds[demo.council], reference: demo.reference,
                            child: demo.child, history: demo.history)
                    }
                    let events = try await pool.transaction { try BulkLoader(engine: engine).load(bulk, on: $0) }
                    for refusal in generated.flatMap(\.refused).prefix(3) { print("warning: decide refused a planned event: \(refusal)") }
                    return (range.count, events, generated.reduce(0) { $0 + $1.refused.count })
                }
            }
            for _ in 0..<3 { submit() }  // two cores: generate one chunk while another loads
            while let (count, events, rejected) = try await group.next() {
                loadedCases += count
                loadedEvents += events
                refused += rejected
                if progress {
                    let seconds = (ContinuousClock.now - start).seconds
                    print("  \(loadedCases) / \(cases) cases, \(loadedEvents) events, \(Int(Double(loadedEvents) / seconds)) events/s")
                }
                submit()
            }
        }
        try await pool.withConnection { try $0.execute("ANALYZE events; ANALYZE case_summary; ANALYZE deadlines; ANALYZE children") }
        let seconds = (ContinuousClock.now - start).seconds
        print(
            "Loaded \(loadedCases) cases and \(loadedEvents) events in \(String(format: "%.1f", seconds)) s (\(Int(Double(loadedEvents) / seconds)) events/s, projections included)."
        )
        if refused > 0 { print("warning: \(refused) planned events were refused by decide and left out") }
    }

    /// A demo user: who they are, their password for the web pages and a token for the API.
    public struct DemoUser: Sendable {
        public var name: String
        public var role: UserRole
        public var password: String
        public var token: String
    }

    /// Demo users of the first council, one per role, each with a fresh password (no second factor), a
    /// fresh 30-day token, and an address at example.com (reserved: RFC 2606) for the alert emails.
    public func demoUsers() async throws -> [DemoUser] {
        let pool = try PostgresPool(.init(conninfo: conninfo, size: 1))
        defer { pool.shutdown() }
        return try await pool.withConnection { connection in
            let council = try Self.council(0, on: connection)
            let directory = UserDirectory()
            // The demo caseworker is one of the generated caseload's caseworkers, so their work tray is full.
            let first = DemoCaseload(seed: seed, asOf: asOf, decider: CaseDecider(engine: DeadlineEngine(calendar: .init(bankHolidays: []))))
                .caseworkers(council: 0)[0]
            return try [
                (first.name, UserRole.caseworker, first.team), ("demo-manager", .manager, first.team), ("demo-admin", .admin, nil),
                ("demo-auditor", .auditor, nil),
            ]
            .map { name, role, team in
                let user = try directory.addUser(name: name, role: role, team: team, council: council, on: connection)
                try directory.setEmail(userId: user, address: Self.address(name), on: connection)
                let password = Self.password()
                try directory.setPassword(userId: user, password: password, on: connection)
                return DemoUser(
                    name: name, role: role, password: password,
                    token: try directory.createToken(userId: user, label: "demo", validFor: 30, on: connection))
            }
        }
    }

    /// A demo user's address: their name in lower case, letters and digits only, at example.com.
    static func address(_ name: String) -> String {
        let local = name.lowercased().map { $0.isASCII && ($0.isLetter || $0.isNumber) ? String($0) : "." }.joined()
        return local.split(separator: ".").joined(separator: ".") + "@example.com"
    }

    /// A random demo password, easy to type: three groups of five lower-case letters and digits.
    static func password() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")
        var generator = SystemRandomNumberGenerator()
        return (0..<3).map { _ in String((0..<5).map { _ in alphabet.randomElement(using: &generator)! }) }.joined(separator: "-")
    }

    /// The demo council with this index, created if missing.
    public static func council(_ index: Int, on connection: PostgresConnection) throws -> UUID {
        let code = "DEMO-\(index + 1)"
        try connection.query(
            "INSERT INTO councils (council_id, code, name) VALUES ($1, $2, $3) ON CONFLICT (code) DO NOTHING",
            [UUID(), code, "Demo Council \(index + 1)"])
        return try connection.query("SELECT council_id FROM councils WHERE code = $1", [code]).first!.decode(UUID.self, at: 0)
    }
}

extension Duration {
    /// In seconds, for rates printed to people.
    public var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
