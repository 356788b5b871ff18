/// Every limit of the realtime protocol, with the spec's defaults. Each one is a flag
/// of `wsdoctor serve`.
public struct RealtimeLimits: Hashable, Sendable {
    public var history = HistoryLimits()
    /// Seconds between server pings (WebSocket) and `: ping` comments (SSE).
    public var pingInterval: Double = 20
    public var maxMessageSize = 64 * 1024
    public var maxSubscriptions = 100
    public var maxConnections = 10_000
    /// Publishes per second per connection or client.
    public var publishRate: Double = 100
    public var maxReportSize = 256 * 1024
    /// Long-poll wait when the client gives none, and the most it may ask for.
    public var pollTimeoutDefault: Double = 25
    public var pollTimeoutMax: Double = 60
    public var telemetryMaxEvents = 100
    public var telemetryMaxBytes = 64 * 1024
    /// Handshake log: how long attempts are kept and how many per nonce.
    public var handshakeLogTTL: Double = 600
    public var handshakeLogPerNonce = 20
    /// Messages a slow consumer may have queued before it is disconnected.
    public var maxQueuedMessages = 1024

    public init() {}

    public var pingIntervalMs: Int { Int((pingInterval * 1000).rounded()) }
}
