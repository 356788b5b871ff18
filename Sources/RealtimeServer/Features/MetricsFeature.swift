import Hummingbird
import ServiceLifecycle

/// Metrics (shell: no routes yet).
enum MetricsFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] { [] }
}
