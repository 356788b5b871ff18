import Hummingbird
import RealtimeCore

/// What `/sse` and `/poll` share before a stream starts: the simulated block, the origin
/// check, the `sub` list and the connection slot, each refusal a JSON error.
enum StreamParameters {
    static let lastEventID = HTTPFields.Element.Name("Last-Event-ID")!

    /// `--simulate block-sse` / `block-poll`: the endpoint answers as a proxy that blocks it.
    static func checkNotBlocked(_ kind: TransportKind, state: ServerState) throws {
        let (fault, flag): (SimulatedFault, String) = kind == .sse ? (.blockSSE, "block-sse") : (.blockPoll, "block-poll")
        guard state.configuration.has(fault) else { return }
        throw APIError(.forbidden, "blocked", "/\(kind.rawValue) is blocked on this server (--simulate \(flag))")
    }

    /// The request's subscriptions; `Last-Event-ID` is honoured when `useLastEventID`.
    static func subscriptions(_ request: Request, state: ServerState, useLastEventID: Bool) throws -> [Subscription] {
        let subs = request.uri.queryParameters[values: "sub"].map(String.init)
        do {
            return try StreamRequest.subscriptions(
                subs, lastEventID: useLastEventID ? request.headers[lastEventID] : nil,
                maxSubscriptions: state.configuration.limits.maxSubscriptions)
        } catch {
            throw APIError(.badRequest, error.code, error.message)
        }
    }

    static func pollTimeout(_ request: Request, state: ServerState) throws -> Double {
        let limits = state.configuration.limits
        do {
            return try StreamRequest.pollTimeout(
                request.uri.queryParameters["timeout"].map(String.init),
                defaultSeconds: limits.pollTimeoutDefault, maxSeconds: limits.pollTimeoutMax)
        } catch {
            throw APIError(.badRequest, error.code, error.message)
        }
    }

    /// A connection slot, or 503 with `Retry-After` when the server is full.
    static func lease(_ kind: TransportKind, state: ServerState) throws -> StreamLease {
        guard let lease = StreamLease(state: state, kind: kind) else {
            throw APIError(.serviceUnavailable, "over-capacity",
                           "the server holds its maximum of \(state.configuration.limits.maxConnections) connections (--max-connections); retry later",
                           headers: [.retryAfter: "2"])
        }
        return lease
    }
}
