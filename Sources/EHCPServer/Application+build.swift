import Hummingbird
import Logging
import Postgres

/// What the HTTP application needs, wired by the composition root.
public struct AppDependencies: Sendable {
    public var pool: PostgresPool
    public var logger: Logger

    public init(pool: PostgresPool, logger: Logger) {
        self.pool = pool
        self.logger = logger
    }
}

/// Where the server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Builds the application: shared by `ehcp serve` and the tests (which call it without sockets).
public func buildApplication(_ configuration: ServerConfiguration, dependencies: AppDependencies) -> some ApplicationProtocol {
    let router = Router()
    HealthController(pool: dependencies.pool).register(on: router)
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ehcp"),
        logger: dependencies.logger)
}
