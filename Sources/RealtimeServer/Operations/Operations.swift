import Hummingbird

/// What runs around every HTTP route for operators: a request id and an access log,
/// and the `--simulate latency=D` fault.
public enum Operations {
    /// The middlewares, outermost first: the access log measures the whole answer,
    /// latency included.
    public static func middlewares(state: ServerState) -> [any MiddlewareProtocol<Request, Response, AppRequestContext>] {
        var list: [any MiddlewareProtocol<Request, Response, AppRequestContext>] = [RequestLogMiddleware()]
        if let seconds = state.configuration.fault({ if case .latency(let s) = $0 { s } else { nil } }) {
            list.append(LatencyMiddleware(delay: .milliseconds(Int64((seconds * 1000).rounded()))))
        }
        return list
    }

    /// Adds ``middlewares(state:)`` to `router`. Call it before any route is registered:
    /// a Hummingbird router applies a middleware only to the routes added after it.
    public static func install(on router: Router<AppRequestContext>, state: ServerState) {
        for middleware in middlewares(state: state) { router.add(middleware: middleware) }
    }
}
