/// The rows a statement returned, copied out of libpq's result so they outlive it.
public struct PostgresRows: Sendable, Sequence {
    public let columns: [String]
    public let rows: [PostgresRow]
    /// Rows affected by INSERT/UPDATE/DELETE (`PQcmdTuples`).
    public let affected: Int

    public func makeIterator() -> IndexingIterator<[PostgresRow]> { rows.makeIterator() }
    public var count: Int { rows.count }
    public var first: PostgresRow? { rows.first }
}

/// One row: each column as text, or nil for NULL.
///
/// The decoders are `@inlinable` so that callers get them specialised for their type: unspecialised,
/// the generic calls showed in profiles of the write path, which reads a few hundred columns a batch.
public struct PostgresRow: Sendable {
    @usableFromInline let columns: [String]
    public let values: [String?]

    /// Decodes column `index` as `T`; throws on NULL or on text `T` cannot read.
    @inlinable
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, at index: Int) throws(PostgresError) -> T {
        guard let value = try decodeIfPresent(T.self, at: index) else {
            throw PostgresError(.decoding, message: "column \(columns[index]) is NULL, expected \(T.self)")
        }
        return value
    }

    /// Decodes column `index` as `T`, or nil when it is NULL.
    @inlinable
    public func decodeIfPresent<T: PostgresDecodable>(_: T.Type = T.self, at index: Int) throws(PostgresError) -> T? {
        guard index < values.count else {
            throw PostgresError(.decoding, message: "column \(index) does not exist (the row has \(values.count))")
        }
        guard let text = values[index] else { return nil }
        guard let value = T(postgresText: text) else {
            throw PostgresError(.decoding, message: "column \(columns[index]) value '\(text)' is not a \(T.self)")
        }
        return value
    }

    /// Decodes the column named `name`.
    public func decode<T: PostgresDecodable>(_: T.Type = T.self, column name: String) throws(PostgresError) -> T {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(.decoding, message: "no column named \(name)")
        }
        return try decode(T.self, at: index)
    }

    public func decodeIfPresent<T: PostgresDecodable>(_: T.Type = T.self, column name: String) throws(PostgresError) -> T? {
        guard let index = columns.firstIndex(of: name) else {
            throw PostgresError(.decoding, message: "no column named \(name)")
        }
        return try decodeIfPresent(T.self, at: index)
    }
}
