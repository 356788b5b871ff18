import Hummingbird
import ServiceLifecycle

/// Jobs (shell: no routes yet).
enum JobsFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] { [] }
}
