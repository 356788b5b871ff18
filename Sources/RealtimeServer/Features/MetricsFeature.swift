import Hummingbird
import ServiceLifecycle

/// `GET /metrics`: the Prometheus text exposition of this server's metrics
/// (connections, handshakes, close codes, messages, fallbacks, reports).
enum MetricsFeature {
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] {
        router.get("/metrics") { request, _ in
            try state.access.check(request)
            return Response(status: .ok, headers: [.contentType: contentType, .cacheControl: "no-store"],
                            body: .init(byteBuffer: ByteBuffer(bytes: state.metrics.exposition())))
        }
        return []
    }
}
