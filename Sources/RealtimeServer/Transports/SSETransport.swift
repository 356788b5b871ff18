import Hummingbird
import RealtimeCore

/// `GET /sse?sub=S&sub=S…`: Server-Sent Events with the same positions as `/ws` and
/// `/poll` (event ids are `CHANNEL@EPOCH:OFFSET`).
enum SSETransport {
    static let accelBuffering = HTTPFields.Element.Name("X-Accel-Buffering")!

    static func register(on router: Router<AppRequestContext>, state: ServerState) {
        router.get("/sse") { request, context -> Response in
            try StreamParameters.checkNotBlocked(.sse, state: state)
            try state.access.check(request)
            let subscriptions = try StreamParameters.subscriptions(request, state: state, useLastEventID: true)
            let stream = SSEStream(state: state, subscriptions: subscriptions,
                                   lease: try StreamParameters.lease(.sse, state: state), logger: context.logger)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", accelBuffering: "no"],
                body: ResponseBody { writer in try await stream.run(request: request, writer: &writer) })
        }
    }
}
