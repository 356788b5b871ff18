import Hummingbird
import ServiceLifecycle

/// The server's features beyond the core routes; each registers its own routes and
/// may run background services (stores that flush, job runners).
enum Features {
    struct Registered {
        var services: [any Service] = []
    }

    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> Registered {
        var registered = Registered()
        SSETransport.register(on: router, state: state)
        PollTransport.register(on: router, state: state)
        WebSocketTransport.registerPlainRoutes(on: router, state: state)
        HandshakeLogFeature.register(on: router, state: state)
        registered.services += try await JobsFeature.register(on: router, state: state)
        registered.services += try await ReportsFeature.register(on: router, state: state)
        registered.services += try await TelemetryFeature.register(on: router, state: state)
        registered.services += try await MetricsFeature.register(on: router, state: state)
        return registered
    }
}
