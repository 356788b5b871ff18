/// The server's counters and gauges, named once here so every transport reports the
/// same way (shell: counts nothing yet).
public final class ServerMetrics: Sendable {
    public init() {}
    public func connectionOpened(_ kind: TransportKind) {}
    public func connectionClosed(_ kind: TransportKind) {}
    /// One upgrade attempt: `upgraded` or `rejected`, with the HTTP status sent.
    public func handshake(outcome: String, status: Int) {}
    /// A WebSocket closed with this code (sent or received).
    public func closed(code: Int) {}
    public func published() {}
    public func delivered(_ count: Int, over kind: TransportKind) {}
    /// A client reported falling back (telemetry).
    public func fallback(to kind: String) {}
    public func reportStored() {}
}
