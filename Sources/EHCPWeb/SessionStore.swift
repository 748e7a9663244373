import EHCPStore
import Foundation
import Hummingbird
import Postgres

/// hummingbird-auth's session storage, kept in PostgreSQL (`WebSessions`): `SessionMiddleware` loads
/// and saves sessions through it, and it stores nothing but what `WebSessions` allows (a session for an
/// enabled user, hashed id, 12 hours at most, 30 minutes idle).
struct SessionStore: PersistDriver {
    let pool: PostgresPool

    func create<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        try await set(key: key, value: value, expires: expires)
    }

    func set<Object: Codable & Sendable>(key: String, value: Object, expires: Duration?) async throws {
        let data = String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
        try await pool.withConnection { _ = try WebSessions().save(id: key, data: data, expiresIn: expires, on: $0) }
    }

    func get<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> Object? {
        try await getWithTTL(key: key, as: type)?.object
    }

    func getWithTTL<Object: Codable & Sendable>(key: String, as type: Object.Type) async throws -> (object: Object, ttl: Duration?)? {
        guard let found = try await pool.withConnection({ try WebSessions().load(id: key, on: $0) }) else { return nil }
        do {
            return (try JSONDecoder().decode(type, from: Data(found.data.utf8)), .seconds(found.secondsLeft))
        } catch {
            throw PersistError.invalidConversion
        }
    }

    func remove(key: String) async throws {
        try await pool.withConnection { try WebSessions().remove(id: key, on: $0) }
    }
}
