import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

/// `/ws` and `/echo` over HummingbirdWebSocket (shell: upgrades nothing yet).
enum WebSocketTransport {
    static func serverConfiguration(_ state: ServerState) -> HTTP1WebSocketUpgradeChannel.Configuration { .init() }

    static func shouldUpgrade(_ request: HTTPRequest, channel: any Channel, logger: Logger, state: ServerState)
        async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        .dontUpgrade
    }

    static func registerPlainRoutes(on router: Router<AppRequestContext>, state: ServerState) {}
}
