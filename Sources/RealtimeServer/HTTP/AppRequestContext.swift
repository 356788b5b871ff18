import Hummingbird
import NIOCore

/// The request context of every route: Hummingbird's core storage plus the peer's
/// address (per-client limits and logs need it).
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    public var remoteIP: String? { remoteAddress?.ipAddress }
}
