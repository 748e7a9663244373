import CLibPQ
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One libpq connection. Every call blocks its thread, so use it from a `PostgresPool` worker thread
/// (or a command-line tool's own thread), never from Swift's cooperative pool.
///
/// Not thread-safe: one thread at a time uses it (the pool guarantees that).
public final class PostgresConnection: @unchecked Sendable {
    private var handle: OpaquePointer?
    /// Statements prepared on this connection, by SQL text: the server parses and plans each once.
    private var prepared: [String: String] = [:]
    /// How many distinct statements a connection prepares; later ones run unprepared.
    static let preparedLimit = 200

    /// Whether this connection reaches PostgreSQL through a transaction pooler (PgBouncer's
    /// `pool_mode = transaction`), where consecutive transactions may run on different server sessions:
    /// it then prepares no named statements and sets nothing a pooler would not carry between sessions.
    public let transactionPooled: Bool

    /// Connects with a `postgresql://` URL or a `key=value` conninfo string; sessions use UTC and ISO dates.
    ///
    /// Through a transaction pooler only `TimeZone` and `DateStyle` are set: PgBouncer tracks both and
    /// sets them on whichever server session runs the next transaction. Nothing here reads intervals, so
    /// `IntervalStyle` (which PgBouncer does not carry) is set only on a direct connection.
    public init(_ conninfo: String, transactionPooled: Bool = false) throws(PostgresError) {
        try PostgresConnection.validate(conninfo: conninfo)
        self.transactionPooled = transactionPooled
        let handle = PQconnectdb(conninfo)
        guard let handle, PQstatus(handle) == CONNECTION_OK else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(handle)
            let oneLine = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
            throw PostgresError(.connection, message: "cannot connect to PostgreSQL: " + oneLine)
        }
        self.handle = handle
        // Server NOTICEs ("relation already exists, skipping") are not errors: keep them off stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        try execute("SET TimeZone TO 'UTC'; SET DateStyle TO 'ISO, YMD'" + (transactionPooled ? "" : "; SET IntervalStyle TO 'iso_8601'"))
    }

    deinit { PQfinish(handle) }

    /// Checks that a URL or conninfo string parses, without connecting.
    public static func validate(conninfo: String) throws(PostgresError) {
        var errorMessage: UnsafeMutablePointer<CChar>?
        guard let options = PQconninfoParse(conninfo, &errorMessage) else {
            let message = errorMessage.map { String(cString: $0) } ?? "unparseable"
            PQfreemem(errorMessage)
            throw PostgresError(.connection, message: "invalid database URL: " + message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        PQconninfoFree(options)
    }

    /// Whether the connection is usable: reads anything the server sent (a shutdown notice breaks it).
    public var isHealthy: Bool {
        guard let handle else { return false }
        // An idle connection whose server went away has a FATAL message and then end-of-file waiting:
        // keep reading while the socket is readable so libpq sees the end and marks the connection bad.
        for _ in 0..<4 {
            guard PQstatus(handle) == CONNECTION_OK, PQconsumeInput(handle) == 1 else { break }
            var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
            guard poll(&descriptor, 1, 0) > 0 else { break }
        }
        return PQstatus(handle) == CONNECTION_OK
    }

    public func close() {
        PQfinish(handle)
        handle = nil
    }

    /// Runs one parameterised statement (`$1`, `$2` …). Parameters and results use the text format.
    @discardableResult
    public func query(_ sql: String, _ parameters: [any PostgresEncodable] = []) throws(PostgresError) -> PostgresRows {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        let texts = parameters.map(\.postgresText)
        let name = try preparedName(for: sql, parameterCount: texts.count)
        let result: OpaquePointer? = withCStrings(texts) { pointers in
            if let name {
                PQexecPrepared(handle, name, Int32(texts.count), pointers, nil, nil, 0)
            } else {
                PQexecParams(handle, sql, Int32(texts.count), nil, pointers, nil, nil, 0)
            }
        }
        return try consume(result)
    }

    /// One statement of a pipeline: SQL with `$1`, `$2` … and its parameters.
    public struct Statement {
        public var sql: String
        public var parameters: [any PostgresEncodable]
        public init(_ sql: String, _ parameters: [any PostgresEncodable] = []) {
            self.sql = sql
            self.parameters = parameters
        }
    }

    /// Sends `statements` in one round trip (libpq pipeline mode) and returns their results in order.
    ///
    /// The server runs them one after another, as `query` would, but the client does not wait for each
    /// before sending the next. When one fails the server skips the rest up to the end of the pipeline,
    /// and this throws the failure. Inside a transaction, that leaves the transaction aborted: a
    /// pipeline that ends with `COMMIT` has then committed nothing. Statements are prepared before
    /// the pipeline starts (preparing is itself a round trip, once per statement per connection).
    ///
    /// Results are read only after everything is sent, so a pipeline is for statements whose results are
    /// small: a server blocked writing a large result to a client still writing would wait forever.
    @discardableResult
    public func pipeline(_ statements: [Statement]) throws(PostgresError) -> [PostgresRows] {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        let names = try statements.map { statement throws(PostgresError) in
            try preparedName(for: statement.sql, parameterCount: statement.parameters.count)
        }
        guard PQenterPipelineMode(handle) == 1 else {
            throw PostgresError(.connection, message: "cannot enter pipeline mode: " + String(cString: PQerrorMessage(handle)))
        }
        defer { PQexitPipelineMode(handle) }
        for (statement, name) in zip(statements, names) {
            let texts = statement.parameters.map(\.postgresText)
            let sent = withCStrings(texts) { pointers in
                if let name {
                    PQsendQueryPrepared(handle, name, Int32(texts.count), pointers, nil, nil, 0)
                } else {
                    PQsendQueryParams(handle, statement.sql, Int32(texts.count), nil, pointers, nil, nil, 0)
                }
            }
            guard sent == 1 else {
                throw PostgresError(.connection, message: "sending a pipelined statement failed: " + String(cString: PQerrorMessage(handle)))
            }
        }
        guard PQpipelineSync(handle) == 1 else {
            throw PostgresError(.connection, message: "ending a pipeline failed: " + String(cString: PQerrorMessage(handle)))
        }
        // Each statement's results end with a NULL; the pipeline's end is a PGRES_PIPELINE_SYNC result.
        var results: [PostgresRows] = []
        var failure: PostgresError?
        var ends = 0
        while true {
            guard let result = PQgetResult(handle) else {
                ends += 1
                // More ends than statements: the connection failed before the server answered them all.
                if ends > statements.count {
                    throw failure
                        ?? PostgresError(.connection, message: "the connection failed in a pipeline: " + String(cString: PQerrorMessage(handle)))
                }
                continue
            }
            let status = PQresultStatus(result)
            if status == PGRES_PIPELINE_SYNC {
                PQclear(result)
                break
            }
            if status == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                continue
            }
            do { results.append(try consume(result)) } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
        return results
    }

    /// The name of `sql` prepared on this connection, preparing it the first time (nil past the limit,
    /// and always through a transaction pooler, whose next transaction may be on a session that never
    /// saw it). A statement that fails to prepare throws the server's error, as running it would have.
    private func preparedName(for sql: String, parameterCount: Int) throws(PostgresError) -> String? {
        if let name = prepared[sql] { return name }
        guard !transactionPooled, prepared.count < Self.preparedLimit else { return nil }
        let name = "ehcp_\(prepared.count)"
        try consume(PQprepare(handle, name, sql, Int32(parameterCount), nil))
        prepared[sql] = name
        return name
    }

    /// Runs a script of one or more statements with no parameters (schema files, SET commands).
    public func execute(_ sql: String) throws(PostgresError) {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        try consume(PQexec(handle, sql))
    }

    /// Runs `body` in a transaction: commits when it returns, rolls back when it throws.
    ///
    /// - Parameter begin: the statement(s) that open it, sent in one round trip (e.g. BEGIN plus settings).
    @discardableResult
    public func transaction<T>(begin: String = "BEGIN", _ body: (PostgresConnection) throws -> T) throws -> T {
        try execute(begin)
        do {
            let value = try body(self)
            try execute("COMMIT")
            return value
        } catch {
            if isHealthy { try? execute("ROLLBACK") }
            throw error
        }
    }

    /// Bulk-loads rows with `COPY … FROM STDIN` (text format). Each element is one line without newline.
    public func copyIn(_ sql: String, lines: some Sequence<String>) throws(PostgresError) {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        let start = PQexec(handle, sql)
        guard PQresultStatus(start) == PGRES_COPY_IN else {
            try consume(start)
            return
        }
        PQclear(start)
        var buffer = ""
        buffer.reserveCapacity(1 << 16)
        func flush() throws(PostgresError) {
            guard !buffer.isEmpty else { return }
            let sent = buffer.withCString { PQputCopyData(handle, $0, Int32(strlen($0))) }
            buffer.removeAll(keepingCapacity: true)
            if sent != 1 { throw PostgresError(.query, message: "COPY failed: " + String(cString: PQerrorMessage(handle))) }
        }
        for line in lines {
            buffer += line
            buffer += "\n"
            if buffer.utf8.count >= 1 << 16 { try flush() }
        }
        try flush()
        guard PQputCopyEnd(handle, nil) == 1 else {
            throw PostgresError(.query, message: "COPY failed: " + String(cString: PQerrorMessage(handle)))
        }
        try consume(PQgetResult(handle))
        while let extra = PQgetResult(handle) { PQclear(extra) }
    }

    // MARK: LISTEN / NOTIFY

    /// Subscribes this connection to a channel.
    public func listen(_ channel: String) throws(PostgresError) {
        try execute("LISTEN " + quoteIdentifier(channel))
    }

    /// Waits up to `timeout` for notifications on channels this connection listens to.
    public func waitForNotifications(timeout: Duration) throws(PostgresError) -> [PostgresNotification] {
        guard let handle else { throw PostgresError(.connection, message: "connection is closed") }
        var received = drainNotifications(handle)
        if !received.isEmpty { return received }
        var descriptor = pollfd(fd: PQsocket(handle), events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        _ = poll(&descriptor, 1, milliseconds)
        guard PQconsumeInput(handle) == 1 else {
            throw PostgresError(.connection, message: "connection lost while waiting: " + String(cString: PQerrorMessage(handle)))
        }
        received = drainNotifications(handle)
        return received
    }

    private func drainNotifications(_ handle: OpaquePointer) -> [PostgresNotification] {
        _ = PQconsumeInput(handle)
        var received: [PostgresNotification] = []
        while let notice = PQnotifies(handle) {
            received.append(
                PostgresNotification(
                    channel: String(cString: notice.pointee.relname), payload: String(cString: notice.pointee.extra)))
            PQfreemem(notice)
        }
        return received
    }

    private func quoteIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    // MARK: Results

    /// Copies a result out of libpq, frees it, and turns failures into `PostgresError`.
    @discardableResult
    private func consume(_ result: OpaquePointer?) throws(PostgresError) -> PostgresRows {
        defer { PQclear(result) }
        guard let result else {
            let message = handle.map { String(cString: PQerrorMessage($0)) } ?? "no result"
            throw PostgresError(.connection, message: message.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY, PGRES_COPY_OUT:
            break
        default:
            func field(_ code: Int32) -> String? {
                PQresultErrorField(result, code).map { String(cString: $0) }
            }
            let message = field(Int32(UInt8(ascii: "M"))) ?? String(cString: PQresultErrorMessage(result))
            let sqlState = field(Int32(UInt8(ascii: "C")))
            let connectionBroken = handle.map { PQstatus($0) != CONNECTION_OK } ?? true
            throw PostgresError(
                PostgresError.kind(sqlState: sqlState, connectionBroken: connectionBroken), sqlState: sqlState,
                message: message.trimmingCharacters(in: .whitespacesAndNewlines), detail: field(Int32(UInt8(ascii: "D"))),
                constraint: field(Int32(UInt8(ascii: "n"))), table: field(Int32(UInt8(ascii: "t"))), column: field(Int32(UInt8(ascii: "c"))))
        }
        let rowCount = Int(PQntuples(result))
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        var rows: [PostgresRow] = []
        rows.reserveCapacity(rowCount)
        for row in 0..<rowCount {
            var values: [String?] = []
            values.reserveCapacity(columnCount)
            for column in 0..<columnCount {
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 {
                    values.append(nil)
                } else {
                    values.append(String(cString: PQgetvalue(result, Int32(row), Int32(column))))
                }
            }
            rows.append(PostgresRow(columns: columns, values: values))
        }
        return PostgresRows(columns: columns, rows: rows, affected: Int(String(cString: PQcmdTuples(result))) ?? 0)
    }
}

/// A NOTIFY received on a listened channel.
public struct PostgresNotification: Sendable, Hashable {
    public var channel: String
    public var payload: String
    public init(channel: String, payload: String) {
        self.channel = channel
        self.payload = payload
    }
}

/// Passes an array of optional Swift strings to C as `const char * const *`, NULL for nil.
private func withCStrings<R>(_ strings: [String?], _ body: ([UnsafePointer<CChar>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { $0.flatMap { strdup($0) } }
    defer { for pointer in pointers { free(pointer) } }
    return pointers.withUnsafeMutableBufferPointer { buffer in
        body(buffer.map { $0.map { UnsafePointer($0) } })
    }
}
