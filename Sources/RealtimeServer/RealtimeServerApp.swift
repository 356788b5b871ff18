import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import RealtimeCore

/// Builds the `wsdoctor serve` application: one router for HTTP, one upgrade decision
/// for WebSocket, every feature registering its own routes.
public enum RealtimeServerApp {
    public static func build(configuration: ServerConfiguration, logger: Logger,
                             onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in })
        async throws -> some ApplicationProtocol
    {
        let state = ServerState(configuration: configuration, logger: logger)
        let router = Router(context: AppRequestContext.self)
        // Middlewares apply to routes added after them: request ids, access log, latency fault.
        Operations.install(on: router, state: state)
        CoreRoutes.register(on: router, state: state)
        let features = try await Features.register(on: router, state: state)
        let app = Application(
            router: router,
            server: .http1WebSocketUpgrade(configuration: WebSocketTransport.serverConfiguration(state)) { request, channel, logger in
                try await WebSocketTransport.shouldUpgrade(request, channel: channel, logger: logger, state: state)
            },
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "wsdoctor/\(configuration.version)"),
            services: features.services,
            onServerRunning: onServerRunning,
            logger: logger
        )
        return app
    }
}
