import NIOConcurrencyHelpers
import NIOCore
import NIOWebSocket

/// How one upgraded connection is watched.
struct WebSocketGuardSettings: Sendable {
    /// Server pings this often; a pong not back by the next ping closes with 4408. nil: no pings.
    var pingInterval: TimeAmount?
    /// `--simulate idle-cut=D`: TCP is cut, without a close frame, after D with no frame
    /// either way. Server pings would be traffic, so none are sent while it is on: the
    /// cut emulates a load balancer that is in front of a server that does not ping.
    var idleCut: TimeAmount?
    /// `--simulate no-pong`: client pings are dropped, so none is ever answered.
    var dropClientPings = false
    /// `--simulate drop-after-upgrade`: TCP is closed right after the 101, no close frame.
    var dropAfterUpgrade = false
    /// `--simulate latency=D`: every frame the server sends leaves D later (order kept).
    var latency: TimeAmount?
    /// After the server's close frame, how long the peer has to end the connection
    /// before TCP is closed anyway (a peer that stopped reading never answers).
    var closeGrace: TimeAmount = .seconds(5)
}

/// A NIO handler placed right after the WebSocket frame decoder of an upgraded
/// connection. It sees every frame in both directions, so it owns what swift-websocket
/// does not let an application decide:
/// - server pings every `pingInterval` and close 4408 when a pong is overdue (the
///   library's own auto-ping closes with 1001 instead);
/// - server-initiated closes with any code, written here so a writer blocked by a
///   consumer that stopped reading cannot hold them back, then TCP closed after a grace;
/// - nothing is sent after a close frame (RFC 6455 §5.5.1);
/// - graceful shutdown: swift-websocket answers it with a bare 1000; a server-initiated
///   bare 1000 is only ever that (this server always gives a reason), so it leaves as
///   1001 "server shutting down", as the spec asks, whichever shutdown path runs first;
/// - the WebSocket faults of `--simulate`;
/// - the close code of the connection, reported once when it ends (1006: none).
///
/// All state is confined to the channel's event loop; `close(code:reason:)` and
/// `isClosing` may be used from any thread.
final class WebSocketGuard: ChannelDuplexHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame
    typealias OutboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let settings: WebSocketGuardSettings
    let eventLoop: any EventLoop
    private let onEnd: @Sendable (_ closeCode: Int) -> Void
    private let closingFlag = NIOLockedValueBox(false)
    /// The channel while the guard is in its pipeline (read from the writer's thread).
    private let attachedChannel = NIOLockedValueBox<(any Channel)?>(nil)

    // Event-loop confined.
    private var context: ChannelHandlerContext?
    private var awaitingPong = false
    private var pingsSent: UInt64 = 0
    private var closeSent = false
    private var closeReceived = false
    private var closeCode: Int?
    private var lastActivity = NIODeadline.now()
    private var pingTimer: Scheduled<Void>?
    private var idleTimer: Scheduled<Void>?
    private var graceTimer: Scheduled<Void>?
    private var ended = false

    init(settings: WebSocketGuardSettings, eventLoop: any EventLoop, onEnd: @escaping @Sendable (Int) -> Void) {
        self.settings = settings
        self.eventLoop = eventLoop
        self.onEnd = onEnd
    }

    /// True once the server sent (or decided to send) its close frame.
    var isClosing: Bool { closingFlag.withLockedValue { $0 } }

    /// Closes the connection with `code` and `reason`, from any thread.
    func close(code: Int, reason: String) {
        closingFlag.withLockedValue { $0 = true }
        eventLoop.execute { self.sendClose(code: code, reason: reason) }
    }

    /// Writes text frames in one event-loop turn with one flush — the fan-out path. While
    /// the socket keeps up it returns at once (the loop runs submitted work in order, so
    /// frames stay in order); when the channel is not writable it returns only once this
    /// batch is written, so a slow reader holds its writer back (and its mailbox
    /// overflows) instead of NIO buffering without bound. False when the guard is not on
    /// a live channel (the caller falls back to the handler's writer).
    func writeTexts(_ texts: [String]) async throws -> Bool {
        guard !texts.isEmpty else { return true }
        guard let channel = attachedChannel.withLockedValue({ $0 }) else { return false }
        let written: EventLoopPromise<Void>? = channel.isWritable ? nil : eventLoop.makePromise(of: Void.self)
        eventLoop.execute {
            guard let context = self.context, !self.closeSent else {
                written?.fail(ChannelError.outputClosed)
                return
            }
            for (index, text) in texts.enumerated() {
                let frame = WebSocketFrame(fin: true, opcode: .text, data: context.channel.allocator.buffer(string: text))
                self.emit(frame, promise: index == texts.count - 1 ? written : nil)
            }
            if self.settings.latency == nil { context.flush() }
        }
        try await written?.futureResult.get()
        return true
    }

    // MARK: lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        attachedChannel.withLockedValue { $0 = context.channel }
        lastActivity = .now()
        if settings.dropAfterUpgrade {
            // After the current pipeline change: the 101 is already on the wire.
            eventLoop.execute { self.context?.close(promise: nil) }
            return
        }
        if let cut = settings.idleCut {
            scheduleIdleCheck(cut)
        } else if let interval = settings.pingInterval {
            schedulePing(interval)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stopTimers()
        attachedChannel.withLockedValue { $0 = nil }
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        stopTimers()
        graceTimer?.cancel()
        closingFlag.withLockedValue { $0 = true }
        if !ended {
            ended = true
            onEnd(closeCode ?? 1006)
        }
        context.fireChannelInactive()
    }

    // MARK: frames in

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        lastActivity = .now()
        switch frame.opcode {
        case .pong:
            awaitingPong = false
        case .ping where settings.dropClientPings:
            return
        case .connectionClose:
            if !closeReceived {
                closeReceived = true
                if closeCode == nil { closeCode = Self.code(of: frame) ?? 1005 }
            }
            context.fireChannelRead(data)
            if closeSent {
                // Our close was answered: the handshake is complete, the server ends TCP.
                eventLoop.execute { self.context?.close(promise: nil) }
            }
            return
        default:
            break
        }
        context.fireChannelRead(data)
    }

    // MARK: frames out

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        var frame = unwrapOutboundIn(data)
        if closeSent {
            // Nothing may follow a close frame: drop it as if written.
            promise?.succeed(())
            return
        }
        if frame.opcode == .connectionClose {
            if !closeReceived, Self.isBareNormalClosure(frame) {
                frame = Self.closeFrame(code: 1001, reason: "server shutting down", allocator: context.channel.allocator)
            }
            markCloseSent(code: Self.code(of: frame) ?? 1005)
        }
        emit(frame, promise: promise)
    }

    func flush(context: ChannelHandlerContext) {
        // Delayed frames flush themselves when they leave.
        if settings.latency == nil { context.flush() }
    }

    // MARK: internals

    private func emit(_ frame: WebSocketFrame, promise: EventLoopPromise<Void>?, flush: Bool = false) {
        guard let context else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        lastActivity = .now()
        if let delay = settings.latency {
            eventLoop.scheduleTask(in: delay) {
                guard let context = self.context else {
                    promise?.fail(ChannelError.ioOnClosedChannel)
                    return
                }
                context.writeAndFlush(self.wrapOutboundOut(frame), promise: promise)
            }
        } else if flush {
            context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
        } else {
            context.write(wrapOutboundOut(frame), promise: promise)
        }
    }

    private func sendClose(code: Int, reason: String) {
        guard !closeSent, let context else { return }
        let frame = Self.closeFrame(code: code, reason: reason, allocator: context.channel.allocator)
        markCloseSent(code: code)
        emit(frame, promise: nil, flush: true)
    }

    private func markCloseSent(code: Int) {
        closeSent = true
        closingFlag.withLockedValue { $0 = true }
        if closeCode == nil { closeCode = code }
        stopTimers()
        let grace = settings.closeGrace + (settings.latency ?? .zero)
        graceTimer = eventLoop.scheduleTask(in: grace) { self.context?.close(promise: nil) }
    }

    private func stopTimers() {
        pingTimer?.cancel()
        pingTimer = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    private func schedulePing(_ interval: TimeAmount) {
        pingTimer = eventLoop.scheduleTask(in: interval) {
            self.pingTick(interval)
        }
    }

    private func pingTick(_ interval: TimeAmount) {
        guard let context, !closeSent, !closeReceived else { return }
        if awaitingPong {
            sendClose(code: 4408, reason: "pong overdue: no pong within \(interval.nanoseconds / 1_000_000) ms")
            return
        }
        pingsSent += 1
        var payload = context.channel.allocator.buffer(capacity: 24)
        payload.writeString("wsdoctor-\(pingsSent)")
        awaitingPong = true
        emit(WebSocketFrame(fin: true, opcode: .ping, data: payload), promise: nil, flush: true)
        schedulePing(interval)
    }

    private func scheduleIdleCheck(_ cut: TimeAmount) {
        let step = TimeAmount.nanoseconds(max(cut.nanoseconds / 10, 10_000_000))
        idleTimer = eventLoop.scheduleTask(in: step) {
            guard let context = self.context else { return }
            if NIODeadline.now() - self.lastActivity >= cut {
                // A load balancer's idle timeout: TCP ends, no close frame.
                self.stopTimers()
                context.close(promise: nil)
            } else {
                self.scheduleIdleCheck(cut)
            }
        }
    }

    // MARK: close frames

    static func code(of frame: WebSocketFrame) -> Int? {
        let data = frame.unmaskedData
        return data.getInteger(at: data.readerIndex, as: UInt16.self).map(Int.init)
    }

    static func isBareNormalClosure(_ frame: WebSocketFrame) -> Bool {
        frame.unmaskedData.readableBytes == 2 && code(of: frame) == 1000
    }

    static func closeFrame(code: Int, reason: String, allocator: ByteBufferAllocator) -> WebSocketFrame {
        var data = allocator.buffer(capacity: 2 + reason.utf8.count)
        data.writeInteger(UInt16(clamping: code))
        data.writeString(truncated(reason, bytes: 123))
        return WebSocketFrame(fin: true, opcode: .connectionClose, data: data)
    }

    /// At most `bytes` of UTF-8, cut on a character boundary (a close reason may not exceed 123).
    static func truncated(_ text: String, bytes: Int) -> String {
        guard text.utf8.count > bytes else { return text }
        var out = ""
        for c in text {
            if out.utf8.count + String(c).utf8.count > bytes { break }
            out.append(c)
        }
        return out
    }
}

/// Added to the pipeline when an upgrade is accepted; when the upgrade completes (the
/// first user event after the WebSocket frame decoder appears) it puts the guard right
/// after the decoder, before any frame is decoded, and removes itself.
final class WebSocketGuardInstaller: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = NIOAny

    private let guardHandler: WebSocketGuard
    private var installed = false

    init(_ guardHandler: WebSocketGuard) { self.guardHandler = guardHandler }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if !installed, let decoder = try? context.pipeline.syncOperations.handler(type: ByteToMessageHandler<WebSocketFrameDecoder>.self) {
            installed = true
            do {
                try context.pipeline.syncOperations.addHandler(guardHandler, position: .after(decoder))
            } catch {
                context.close(promise: nil)
            }
            context.fireUserInboundEventTriggered(event)
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
