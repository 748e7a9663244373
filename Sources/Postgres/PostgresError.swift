/// An error from the database or the client, carrying PostgreSQL's SQLSTATE where there is one.
public struct PostgresError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Could not connect, or the connection broke.
        case connection
        /// The server rejected a statement (see `sqlState`).
        case query
        /// No connection became free within the pool's acquire timeout.
        case poolTimeout
        /// The pool was shut down.
        case poolClosed
        /// A value could not be decoded into the requested Swift type.
        case decoding
    }

    public var kind: Kind
    /// Five-character SQLSTATE, e.g. `23505` unique_violation, `42501` insufficient_privilege.
    public var sqlState: String?
    public var message: String
    public var detail: String?
    public var constraint: String?
    /// The table and column the error is about, when the server names them (e.g. a NOT NULL violation).
    public var table: String?
    public var column: String?

    public init(
        _ kind: Kind, sqlState: String? = nil, message: String, detail: String? = nil, constraint: String? = nil, table: String? = nil,
        column: String? = nil
    ) {
        self.kind = kind
        self.sqlState = sqlState
        self.message = message
        self.detail = detail
        self.constraint = constraint
        self.table = table
        self.column = column
    }

    /// `.connection` when libpq has seen the connection break, or when the server says it is ending the
    /// session (class 08, connection exception; 57P01 admin shutdown, 57P02 crash shutdown, 57P03 cannot
    /// connect now). A server killed or restarting sends those just before it closes the socket, so libpq
    /// may not have marked the connection bad yet: the error is about the server, not the statement.
    public static func kind(sqlState: String?, connectionBroken: Bool) -> Kind {
        if connectionBroken { return .connection }
        guard let sqlState else { return .query }
        return sqlState.hasPrefix("08") || ["57P01", "57P02", "57P03"].contains(sqlState) ? .connection : .query
    }

    public var isUniqueViolation: Bool { sqlState == "23505" }
    public var isInsufficientPrivilege: Bool { sqlState == "42501" }

    public var description: String {
        var text = message
        if let sqlState { text = "[\(sqlState)] " + text }
        if let detail, !detail.isEmpty { text += " (\(detail))" }
        return text
    }
}
