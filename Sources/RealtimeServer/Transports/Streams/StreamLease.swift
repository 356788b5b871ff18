import NIOConcurrencyHelpers

/// One `/sse` stream's or held `/poll`'s connection slot, counted in health and metrics
/// from the moment it is taken until `end()` (or, if the response is dropped before its
/// body ran, until the lease is freed).
final class StreamLease: Sendable {
    let kind: TransportKind
    private let slot: ConnectionSlot
    private let metrics: ServerMetrics
    private let ended = NIOLockedValueBox(false)

    /// nil when the server is at `--max-connections`.
    init?(state: ServerState, kind: TransportKind) {
        guard let slot = state.openConnection(kind) else { return nil }
        self.kind = kind
        self.slot = slot
        self.metrics = state.metrics
        metrics.connectionOpened(kind)
    }

    func end() {
        let first = ended.withLockedValue { e -> Bool in
            defer { e = true }
            return !e
        }
        guard first else { return }
        slot.release()
        metrics.connectionClosed(kind)
    }

    deinit { end() }
}
