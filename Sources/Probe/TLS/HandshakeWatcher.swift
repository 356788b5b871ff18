import NIOCore
import NIOSSL
import NIOTLS

/// How one handshake ended, with what was observed up to then. Plain values, so it can leave
/// the event loop.
struct HandshakeObservation: Sendable {
    enum End: Sendable {
        case completed(alpn: String?)
        case failed(any Error)
        case closed
        case timeout
    }

    var end: End
    var version: TLSVersion?
    var servedChain: [[UInt8]]
    var firstBytes: [UInt8]
}

/// Sits right behind the TLS handler and completes one promise with the first thing that ends
/// the handshake — success, an error, the connection closing, or the timeout — whichever comes
/// first. It also receives the served chain from the verification callback. Everything runs on
/// the channel's event loop; after the handshake it only passes events through.
final class HandshakeWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let promise: EventLoopPromise<HandshakeObservation>
    private let recorder: FirstBytesRecorder
    /// Weak: the pipeline owns the TLS handler; the watcher only asks it for the negotiated version.
    weak var tls: NIOSSLClientHandler?
    /// Set by the verification callback, which runs before the handshake completes.
    var servedChain: [NIOSSLCertificate] = []
    private var finished = false

    init(promise: EventLoopPromise<HandshakeObservation>, recorder: FirstBytesRecorder) {
        self.promise = promise
        self.recorder = recorder
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let tlsEvent = event as? TLSUserEvent, case .handshakeCompleted(let negotiated) = tlsEvent {
            finish(.completed(alpn: negotiated))
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failed(error))
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.closed)
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed before the handshake ended (pipeline torn down): never leave the caller waiting.
        finish(.closed)
    }

    func timedOut() { finish(.timeout) }

    /// Setting up the handlers failed: report it through the same promise.
    func failBeforeStart(_ error: any Error) { finish(.failed(error)) }

    private func finish(_ end: HandshakeObservation.End) {
        guard !finished else { return }
        finished = true
        promise.succeed(
            HandshakeObservation(
                end: end, version: tls?.tlsVersion,
                servedChain: servedChain.compactMap { try? $0.toDERBytes() },
                firstBytes: recorder.bytes))
    }
}
