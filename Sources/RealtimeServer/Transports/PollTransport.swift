import Hummingbird

/// `/poll` (shell: no route yet).
enum PollTransport {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {}
}
