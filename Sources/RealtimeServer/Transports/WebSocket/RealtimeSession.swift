import Foundation
import HummingbirdWebSocket
import NIOCore
import RealtimeCore

/// One `/ws` connection: `welcome`, then the client's ops answered in order, and the
/// hub's deliveries (`subscribed`, replay, live messages) written by one writer that
/// drains the connection's bounded mailbox — the same fan-out path as SSE and polling.
struct RealtimeSession: Sendable {
    typealias Context = HTTP1WebSocketUpgradeChannel.Context

    let state: ServerState
    let watch: WebSocketGuard
    let slot: ConnectionSlot
    /// The upgrade carried the publish token (or none is configured).
    let mayPublish: Bool

    var handler: WebSocketDataHandler<Context> {
        { inbound, outbound, _ in try await self.run(inbound: inbound, outbound: outbound) }
    }

    func run(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async throws {
        state.metrics.connectionOpened(.websocket)
        let subscriber = state.makeSubscriberID()
        let mailbox = state.makeMailbox()
        let limits = state.configuration.limits
        let welcome = ServerMessage.welcome(session: Self.sessionID(), pingIntervalMs: limits.pingIntervalMs,
                                            serverTime: Self.now())
        var failure: (any Error)?
        do {
            try await send([welcome.text], outbound)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await self.writeDeliveries(from: mailbox, to: outbound) }
                do {
                    try await self.read(inbound, outbound: outbound, subscriber: subscriber, mailbox: mailbox)
                } catch {
                    group.cancelAll()
                    throw error
                }
                group.cancelAll()
            }
        } catch {
            failure = error
        }
        mailbox.finish()
        await state.store.unsubscribeAll(subscriber)
        slot.release()
        state.metrics.connectionClosed(.websocket)
        // swift-websocket closes with the code an inbound error carries (1009 for a
        // message too big), 1011 for anything else.
        if let failure { throw failure }
    }

    /// The single writer of hub deliveries. A mailbox that overflowed means this client
    /// reads slower than messages come: it is closed with 1013, not buffered for ever.
    private func writeDeliveries(from mailbox: Mailbox<Delivery>, to outbound: WebSocketOutboundWriter) async {
        while let batch = await mailbox.next() {
            if watch.isClosing { return }
            var delivered = 0
            let texts = batch.map { delivery -> String in
                switch delivery {
                case .subscribed(let id, let channel, let latest, let recovered):
                    return ServerMessage.subscribed(id: id, channel: channel, latest: latest, recovered: recovered).text
                case .message(let m):
                    delivered += 1
                    return m.webSocketText
                }
            }
            do { try await send(texts, outbound) } catch { return }
            if delivered > 0 { state.metrics.delivered(delivered, over: .websocket) }
        }
        if mailbox.overflowed {
            watch.close(code: 1013, reason: "slow consumer: more than \(mailbox.capacity) messages queued")
        }
    }

    /// Writes server messages in order: as one batch through the guard (one event-loop
    /// turn, one flush), or frame by frame if the guard is not attached to the channel.
    private func send(_ texts: [String], _ outbound: WebSocketOutboundWriter) async throws {
        if try await watch.writeTexts(texts) { return }
        for text in texts { try await outbound.write(.text(text)) }
    }

    private func read(_ inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter,
                      subscriber: SubscriberID, mailbox: Mailbox<Delivery>) async throws {
        let limits = state.configuration.limits
        var subscriptions = Set<ChannelName>()
        var publishes = RateLimiter(rate: limits.publishRate)
        func reply(_ message: ServerMessage) async throws {
            guard !watch.isClosing else { return }
            try await outbound.write(.text(message.text))
        }
        for try await message in inbound.messages(maxSize: limits.maxMessageSize) {
            // Closing: read on until the client answers the close (or the grace runs out).
            if watch.isClosing { continue }
            let text: String
            switch message {
            case .binary:
                watch.close(code: 1003, reason: "binary frames are not accepted on /ws: send JSON text")
                continue
            case .text(let t):
                // One frame under the decoder's floor of 125 bytes can still be over a tiny limit.
                guard t.utf8.count <= limits.maxMessageSize else {
                    watch.close(code: 1009, reason: "message too big: more than \(limits.maxMessageSize) bytes (--max-message-size)")
                    continue
                }
                text = t
            }
            let frame: ClientFrame
            switch ClientFrame.decode(text) {
            case .failure(.malformed(let why)):
                watch.close(code: 4400, reason: "malformed message: \(why)")
                continue
            case .failure(.rejected(let id, let code, let why)):
                try await reply(.error(id: id, code: code, message: why))
                continue
            case .success(let f):
                frame = f
            }
            switch frame.message {
            case .subscribe(let subscription):
                if !subscriptions.contains(subscription.channel), subscriptions.count >= limits.maxSubscriptions {
                    try await reply(.error(id: frame.id, code: "too-many-subscriptions",
                                           message: "at most \(limits.maxSubscriptions) subscriptions per connection (--max-subscriptions)"))
                    continue
                }
                subscriptions.insert(subscription.channel)
                // `subscribed` and the replay go through the mailbox, before any live message.
                _ = await state.store.subscribe(subscription, id: frame.id, subscriber: subscriber, mailbox: mailbox)
            case .unsubscribe(let channel):
                subscriptions.remove(channel)
                await state.store.unsubscribe(channel, subscriber: subscriber)
                try await reply(.unsubscribed(id: frame.id, channel: channel))
            case .publish(let channel, let data):
                guard mayPublish else {
                    watch.close(code: 4401, reason: "unauthorized: publishing needs the publish token (connect with ?token=TOKEN)")
                    continue
                }
                guard publishes.allow(now: ProcessInfo.processInfo.systemUptime) else {
                    watch.close(code: 4429, reason: "rate limited: more than \(Self.number(limits.publishRate)) publishes per second (--publish-rate)")
                    continue
                }
                let published = await state.store.publish(channel, data: data)
                state.metrics.published()
                try await reply(.published(id: frame.id, message: published))
            case .ping:
                try await reply(.pong(id: frame.id, serverTime: Self.now()))
            case .echo(let data):
                try await reply(.echo(id: frame.id, data: data))
            }
        }
    }

    static func now() -> String {
        Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    static func sessionID() -> String {
        "s-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(value)
    }
}

/// One `/echo` connection: every text and binary message comes back as it was sent.
struct EchoSession: Sendable {
    typealias Context = HTTP1WebSocketUpgradeChannel.Context

    let state: ServerState
    let watch: WebSocketGuard
    let slot: ConnectionSlot

    var handler: WebSocketDataHandler<Context> {
        { inbound, outbound, _ in
            state.metrics.connectionOpened(.websocket)
            defer {
                slot.release()
                state.metrics.connectionClosed(.websocket)
            }
            let limit = state.configuration.limits.maxMessageSize
            for try await message in inbound.messages(maxSize: limit) {
                if watch.isClosing { continue }
                switch message {
                case .text(let text) where text.utf8.count <= limit: try await outbound.write(.text(text))
                case .binary(let bytes) where bytes.readableBytes <= limit: try await outbound.write(.binary(bytes))
                default: watch.close(code: 1009, reason: "message too big: more than \(limit) bytes (--max-message-size)")
                }
            }
        }
    }
}
