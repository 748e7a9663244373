import EHCPAPI
import EHCPWeb
import Hummingbird
import Logging
import ServiceLifecycle

/// Where the server listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// Builds the HTTP application: shared by `ehcp serve` and the tests (which call it without sockets).
public func buildApplication(
    _ configuration: ServerConfiguration, api: APIDependencies, web: (pages: Pages, settings: WebSettings)? = nil, logger: Logger,
    services: [any Service] = [], onListening: @escaping @Sendable () async -> Void = {}
) -> some ApplicationProtocol {
    let router = APIRouter.build(api)
    if let web { WebRouter.register(on: router, deps: api, pages: web.pages, settings: web.settings) }
    var app = Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ehcp"),
        onServerRunning: { _ in await onListening() },
        logger: logger)
    for service in services { app.addServices(service) }
    return app
}
