import Hummingbird
import ServiceLifecycle

/// Reports (shell: no routes yet).
enum ReportsFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] { [] }
}
