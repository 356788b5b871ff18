import Hummingbird
import ServiceLifecycle

/// Telemetry (shell: no routes yet).
enum TelemetryFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] { [] }
}
