import Hummingbird
import RealtimeCore

/// `GET /poll?sub=S&sub=S…&timeout=SECONDS`: long-polling with the same positions as
/// `/ws` and `/sse`; the answer's `positions` are the next request's `sub` values.
enum PollTransport {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {
        router.get("/poll") { request, _ -> Response in
            try StreamParameters.checkNotBlocked(.poll, state: state)
            try state.access.check(request)
            let subscriptions = try StreamParameters.subscriptions(request, state: state, useLastEventID: false)
            let timeout = try StreamParameters.pollTimeout(request, state: state)
            let lease = try StreamParameters.lease(.poll, state: state)
            defer { lease.end() }
            return try await PollExchange(state: state, subscriptions: subscriptions, timeout: timeout).run(request: request)
        }
    }
}
