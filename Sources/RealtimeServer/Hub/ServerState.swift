import Foundation
import Logging
import NIOConcurrencyHelpers
import RealtimeCore

/// The transports a client can use.
public enum TransportKind: String, CaseIterable, Sendable {
    case websocket, sse, poll
}

/// Everything the routes and transports share: configuration, the channel store,
/// connection counts. One per server.
public final class ServerState: Sendable {
    public let configuration: ServerConfiguration
    public let store: any ChannelStore
    public let access: AccessPolicy
    public let logger: Logger
    public let startedAt = Date()
    public let publishLimits: PublishRateLimits
    public let handshakeLog: HandshakeLog
    public let metrics: ServerMetrics
    private let counts = NIOLockedValueBox([TransportKind: Int]())
    private let nextID = NIOLockedValueBox<UInt64>(0)

    public init(configuration: ServerConfiguration, store: (any ChannelStore)? = nil, logger: Logger) {
        self.configuration = configuration
        self.store = store ?? InMemoryChannelStore(limits: configuration.limits.history)
        self.access = AccessPolicy(configuration: configuration)
        self.publishLimits = PublishRateLimits(rate: configuration.limits.publishRate)
        self.handshakeLog = HandshakeLog(ttl: configuration.limits.handshakeLogTTL, perNonce: configuration.limits.handshakeLogPerNonce)
        self.metrics = ServerMetrics()
        self.logger = logger
    }

    public var uptimeSeconds: Double { Date().timeIntervalSince(startedAt) }

    public func connections(_ kind: TransportKind) -> Int { counts.withLockedValue { $0[kind] ?? 0 } }
    public var totalConnections: Int { counts.withLockedValue { $0.values.reduce(0, +) } }

    /// Takes a connection slot; nil when the server is at `maxConnections` (answer 503).
    public func openConnection(_ kind: TransportKind) -> ConnectionSlot? {
        let max = configuration.limits.maxConnections
        let ok = counts.withLockedValue { c -> Bool in
            guard c.values.reduce(0, +) < max else { return false }
            c[kind, default: 0] += 1
            return true
        }
        return ok ? ConnectionSlot(kind: kind, state: self) : nil
    }

    fileprivate func release(_ kind: TransportKind) {
        counts.withLockedValue { $0[kind, default: 1] -= 1 }
    }

    public func makeSubscriberID() -> SubscriberID {
        SubscriberID(nextID.withLockedValue { $0 += 1; return $0 })
    }

    public func makeMailbox() -> Mailbox<Delivery> { Mailbox(capacity: configuration.mailboxCapacity) }
}

/// A held connection slot; released exactly once.
public final class ConnectionSlot: Sendable {
    public let kind: TransportKind
    private let state: ServerState
    private let released = NIOLockedValueBox(false)

    fileprivate init(kind: TransportKind, state: ServerState) {
        self.kind = kind
        self.state = state
    }

    public func release() {
        let first = released.withLockedValue { r -> Bool in
            defer { r = true }
            return !r
        }
        if first { state.release(kind) }
    }

    deinit { release() }
}
