import Foundation
import Postgres
import TestSupport
import Testing

@Suite("Postgres connection")
struct PostgresConnectionTests {
    let database: TestDatabase

    init() throws { database = try TestDatabase.make(migrate: false) }

    @Test("an array parameter arrives element for element: quotes, backslashes, NULL, the word NULL, braces, commas, Unicode")
    func arrayRoundTrip() throws {
        let connection = try database.connect()
        let elements: [String?] = ["a", "b\"c", "d\\e", nil, "NULL", "", "{x,y}", " spaced ", "ünï — 😀"]
        let back = try connection.query(
            "SELECT e FROM unnest($1::text[]) WITH ORDINALITY AS t(e, n) ORDER BY n", [PostgresArray(elements)]
        ).rows.map { try $0.decodeIfPresent(String.self, at: 0) }
        #expect(back == elements)
    }

    @Test("every supported type round-trips through a parameter and back")
    func typeRoundTrips() throws {
        let connection = try database.connect()
        let id = UUID()
        let instant = Date(timeIntervalSince1970: 1_741_000_000.123456)
        let row = try #require(
            try connection.query(
                """
                SELECT $1::text, $2::int, $3::bigint, $4::bool, $5::float8, $6::numeric, $7::date::text, $8::timestamptz,
                       $9::uuid, $10::jsonb::text, $11::text
                """,
                [
                    "it's \"quoted\" — ünïcode", 42, Int64(9_000_000_000), true, 2.5, 12.75, "2024-02-29", instant, id,
                    JSONText(#"{"a": [1, null]}"#), String?.none,
                ]
            ).first)
        #expect(try row.decode(String.self, at: 0) == "it's \"quoted\" — ünïcode")
        #expect(try row.decode(Int.self, at: 1) == 42)
        #expect(try row.decode(Int64.self, at: 2) == 9_000_000_000)
        #expect(try row.decode(Bool.self, at: 3) == true)
        #expect(try row.decode(Double.self, at: 4) == 2.5)
        #expect(try row.decode(Double.self, at: 5) == 12.75)
        #expect(try row.decode(String.self, at: 6) == "2024-02-29")
        let decoded = try row.decode(Date.self, at: 7)
        #expect(abs(decoded.timeIntervalSince1970 - instant.timeIntervalSince1970) < 0.000_01)
        #expect(try row.decode(UUID.self, at: 8) == id)
        #expect(try row.decode(String.self, at: 9) == #"{"a": [1, null]}"#)
        #expect(try row.decodeIfPresent(String.self, at: 10) == nil)
        #expect(throws: PostgresError.self) { try row.decode(String.self, at: 10) }
        #expect(throws: PostgresError.self) { try row.decode(Int.self, at: 0) }
    }

    @Test("a transaction commits when its body returns and rolls back when it throws")
    func transactions() throws {
        struct Boom: Error {}
        let connection = try database.connect()
        try connection.execute("CREATE TABLE t (n int)")
        try connection.transaction { try $0.query("INSERT INTO t VALUES (1)") }
        #expect(throws: Boom.self) {
            try connection.transaction { connection in
                try connection.query("INSERT INTO t VALUES (2)")
                throw Boom()
            }
        }
        let rows = try connection.query("SELECT n FROM t ORDER BY n").rows.map { try $0.decode(Int.self, at: 0) }
        #expect(rows == [1])
    }

    @Test("a pipeline returns each statement's result in order, and the connection works normally after it")
    func pipelineResults() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TABLE p (n int PRIMARY KEY)")
        let results = try connection.pipeline([
            .init("BEGIN"),
            .init("INSERT INTO p SELECT unnest($1::int[]) RETURNING n", [PostgresArray(["1", "2", "3"])]),
            .init("SELECT count(*) FROM p WHERE n > $1", [1]),
            .init("COMMIT"),
        ])
        #expect(results.count == 4)
        #expect(try results[1].rows.map { try $0.decode(Int.self, at: 0) } == [1, 2, 3])
        #expect(try results[2].first?.decode(Int.self, at: 0) == 2)
        #expect(try connection.query("SELECT count(*) FROM p").first?.decode(Int.self, at: 0) == 3)
    }

    @Test("a failing statement in a pipeline throws its error; the statements after it, COMMIT included, do not run")
    func pipelineFailure() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TABLE q (n int PRIMARY KEY)")
        try connection.query("INSERT INTO q VALUES (1)")
        let error = #expect(throws: PostgresError.self) {
            try connection.pipeline([
                .init("BEGIN"),
                .init("INSERT INTO q VALUES ($1)", [2]),
                .init("INSERT INTO q VALUES ($1)", [1]),
                .init("INSERT INTO q VALUES ($1)", [3]),
                .init("COMMIT"),
            ])
        }
        #expect(error?.sqlState == "23505")
        // The transaction is open and aborted: it rolls back, and nothing of it remains.
        try connection.execute("ROLLBACK")
        #expect(try connection.query("SELECT n FROM q ORDER BY n").rows.map { try $0.decode(Int.self, at: 0) } == [1])
    }

    @Test("errors carry SQLSTATE, message and detail")
    func errorsCarrySQLState() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TABLE u (id int PRIMARY KEY)")
        try connection.query("INSERT INTO u VALUES (1)")
        let error = try #require(throws: PostgresError.self) { try connection.query("INSERT INTO u VALUES ($1)", [1]) }
        #expect(error.sqlState == "23505")
        #expect(error.isUniqueViolation)
        #expect(error.detail?.contains("(id)=(1)") == true)
        #expect(error.constraint == "u_pkey")
        let syntax = try #require(throws: PostgresError.self) { try connection.query("SELEC 1") }
        #expect(syntax.sqlState == "42601")
        // The connection is still usable after errors.
        #expect(try connection.query("SELECT 1").count == 1)
    }

    @Test("a statement's error is a query error; the server ending the session is a connection error")
    func serverEndingSessionIsConnectionError() throws {
        let connection = try database.connect()
        let victim = try database.connect()
        let pid = try victim.query("SELECT pg_backend_pid()").first!.decode(Int.self, at: 0)
        try connection.query("SELECT pg_terminate_backend($1)", [pid])
        let terminated = try #require(throws: PostgresError.self) { try victim.query("SELECT 1") }
        #expect(terminated.kind == .connection)
        #expect(try #require(throws: PostgresError.self) { try connection.query("SELEC 1") }.kind == .query)
        // What a killed or restarting server sends before closing the socket, whether or not libpq has seen
        // the close yet: admin shutdown (a fast shutdown, or a backend told its postmaster died), crash
        // shutdown, cannot connect now (recovery), and the connection-exception class.
        for state in ["57P01", "57P02", "57P03", "08006"] {
            #expect(PostgresError.kind(sqlState: state, connectionBroken: false) == .connection, "\(state)")
        }
        for state in ["23505", "40001", "42601", "57014"] {
            #expect(PostgresError.kind(sqlState: state, connectionBroken: false) == .query, "\(state)")
        }
    }

    @Test("a malformed URL is rejected before connecting, with a clear message")
    func malformedURL() throws {
        let error = try #require(throws: PostgresError.self) { try PostgresConnection("this is not a url") }
        #expect(error.kind == .connection)
        #expect(error.message.contains("invalid database URL"))
        let unreachable = try #require(throws: PostgresError.self) {
            try PostgresConnection("host=/nonexistent-socket-dir port=1 user=x dbname=x connect_timeout=2")
        }
        #expect(unreachable.message.contains("cannot connect"))
    }

    @Test("LISTEN receives a NOTIFY sent by another connection")
    func listenNotify() throws {
        let listener = try database.connect()
        let sender = try database.connect()
        try listener.listen("deadline_due")
        try sender.query("SELECT pg_notify($1, $2)", ["deadline_due", "case-42"])
        var received: [PostgresNotification] = []
        let deadline = ContinuousClock.now + .seconds(10)
        while received.isEmpty && ContinuousClock.now < deadline {
            received += try listener.waitForNotifications(timeout: .seconds(1))
        }
        #expect(received == [PostgresNotification(channel: "deadline_due", payload: "case-42")])
    }

    @Test("COPY FROM STDIN loads rows, escaping included")
    func copyIn() throws {
        let connection = try database.connect()
        try connection.execute("CREATE TABLE c (n int, s text)")
        try connection.copyIn("COPY c (n, s) FROM STDIN", lines: (1...1000).map { "\($0)\trow \($0)" })
        #expect(try connection.query("SELECT count(*), sum(n) FROM c").first?.decode(Int.self, at: 1) == 500_500)
    }
}
