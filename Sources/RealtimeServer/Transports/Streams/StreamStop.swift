import NIOConcurrencyHelpers

/// Why a stream or a held poll was told to stop from outside its own loop.
enum StreamStopReason: Sendable, Equatable {
    /// The server is shutting down gracefully: finish what is queued, then end.
    case shutdown
    /// The client closed its side: nobody is reading any more.
    case disconnected
}

/// The first reason to stop, set from a graceful-shutdown or inbound-close handler.
final class StreamStop: Sendable {
    private let box = NIOLockedValueBox<StreamStopReason?>(nil)

    func trigger(_ reason: StreamStopReason) {
        box.withLockedValue { if $0 == nil { $0 = reason } }
    }

    var reason: StreamStopReason? { box.withLockedValue { $0 } }
}
