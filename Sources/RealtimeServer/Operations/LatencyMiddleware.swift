import Hummingbird

/// `--simulate latency=D`: every HTTP answer, refusals included, leaves D later than
/// it would have, as behind a slow link. A client that goes away cancels the wait.
public struct LatencyMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public let delay: Duration

    public init(delay: Duration) { self.delay = delay }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let response: Response
        do {
            response = try await next(request, context)
        } catch {
            try await Task.sleep(for: delay)
            throw error
        }
        try await Task.sleep(for: delay)
        return response
    }
}
