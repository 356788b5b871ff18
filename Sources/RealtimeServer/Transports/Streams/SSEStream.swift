import Hummingbird
import Logging
import NIOCore
import RealtimeCore
import ServiceLifecycle

/// One `/sse` response: `retry`, then per subscription `subscribed` and its replay, then
/// live messages and a `: ping` comment every ping interval, until the client leaves, the
/// server shuts down, or the client falls too far behind (a final `event: error`).
struct SSEStream: Sendable {
    let state: ServerState
    let subscriptions: [Subscription]
    let lease: StreamLease
    /// The request's logger (it carries the request id).
    let logger: Logger

    /// Event bytes are written in pieces of about this size, so a large backlog never
    /// becomes one large buffer.
    static let writeChunk = 64 * 1024

    func run(request: Request, writer: inout any ResponseBodyWriter) async throws {
        let subscriber = state.makeSubscriberID()
        let mailbox = state.makeMailbox()
        let stop = StreamStop()
        let limits = state.configuration.limits
        let box = BodyWriterBox(writer, stallTimeout: max(1, 2 * limits.pingInterval))
        var failure: (any Error)?
        var ending = Ending.cancelled
        do {
            ending = try await request.body.consumeWithInboundCloseHandler { _ in
                try await withGracefulShutdownHandler {
                    try await pump(box: box, mailbox: mailbox, subscriber: subscriber, stop: stop)
                } onGracefulShutdown: {
                    stop.trigger(.shutdown)
                    mailbox.finish()
                }
            } onInboundClosed: {
                stop.trigger(.disconnected)
                mailbox.finish()
            }
        } catch {
            failure = error
        }
        await state.store.unsubscribeAll(subscriber)
        lease.end()
        logger.debug("sse stream ended", metadata: ["reason": "\(failure.map { "\($0)" } ?? ending.rawValue)"])
        if let failure { throw failure }
        switch ending {
        case .overflowed:
            let text = SSEFormat.error(code: "slow-consumer",
                                       message: "this client fell more than \(mailbox.capacity) messages behind; reconnect from the last event id")
            try await box.write(ByteBuffer(string: text))
            try await box.finish()
        case .shutdown:
            try await box.finish()
        case .disconnected, .cancelled:
            // Nobody reads any more: end the connection instead of the body.
            throw CancellationError()
        }
    }

    enum Ending: String, Sendable {
        case overflowed, shutdown, disconnected, cancelled
    }

    private func pump(box: BodyWriterBox, mailbox: Mailbox<Delivery>, subscriber: SubscriberID, stop: StreamStop)
        async throws -> Ending
    {
        try await box.write(ByteBuffer(string: SSEFormat.preamble(retryMs: 2000)))
        let interval = Duration.seconds(max(0.01, state.configuration.limits.pingInterval))
        var nextPing = ContinuousClock.now + interval
        var open = true
        // One subscription at a time, its replay written before the next one starts, so
        // a mailbox only ever holds one replay.
        for subscription in subscriptions where open {
            _ = await state.store.subscribe(subscription, id: nil, subscriber: subscriber, mailbox: mailbox)
            if let batch = await mailbox.next() { try await write(batch, to: box) } else { open = false }
        }
        while open {
            switch await mailbox.next(until: nextPing) {
            case .items(let batch):
                try await write(batch, to: box)
            case .timeout:
                break
            case .closed:
                open = false
                continue
            }
            if ContinuousClock.now >= nextPing {
                try await box.write(ByteBuffer(string: SSEFormat.ping))
                nextPing = ContinuousClock.now + interval
            }
        }
        if mailbox.overflowed { return .overflowed }
        switch stop.reason {
        case .shutdown: return .shutdown
        case .disconnected: return .disconnected
        case nil: return .cancelled
        }
    }

    private func write(_ batch: [Delivery], to box: BodyWriterBox) async throws {
        var text = ""
        var delivered = 0
        for delivery in batch {
            switch delivery {
            case .subscribed(_, let channel, let latest, let recovered):
                text += SSEFormat.subscribed(channel, latest: latest, recovered: recovered)
            case .message(let m):
                text += SSEFormat.message(m)
                delivered += 1
            }
            if text.utf8.count >= Self.writeChunk {
                try await box.write(ByteBuffer(string: text))
                text = ""
            }
        }
        if !text.isEmpty { try await box.write(ByteBuffer(string: text)) }
        if delivered > 0 { state.metrics.delivered(delivered, over: .sse) }
    }
}
