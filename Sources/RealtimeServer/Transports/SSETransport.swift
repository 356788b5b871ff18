import Hummingbird

/// `/sse` (shell: no route yet).
enum SSETransport {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {}
}
