import NIOCore
import NIOSSL

/// A TLS server on 127.0.0.1 serving a chosen chain — complete, leaf only, with an untrusted
/// root — so client tests see exactly what a misconfigured server sends.
///
/// After the handshake the connection is handed to `application` (the handlers for whatever the
/// test needs, e.g. a WebSocket fault server); by default it answers the first bytes that arrive
/// with `response`.
enum TLSTestServer {
    static let defaultResponse = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"

    /// - Parameters:
    ///   - chain: served in this order; the first one's key signs the handshake.
    ///   - application: adds the post-TLS handlers to a connection (runs on its event loop).
    static func start(
        serving chain: [TestPKI.Identity],
        alpn: [String] = ["http/1.1"],
        response: String = defaultResponse,
        application: (@Sendable (any Channel) throws -> Void)? = nil
    ) async throws -> LocalTestServer {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0.nioCertificate) },
            privateKey: .privateKey(chain[0].nioKey))
        configuration.applicationProtocols = alpn
        let context = try NIOSSLContext(configuration: configuration)
        return try await LocalTestServer.start { child in
            try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
            if let application {
                try application(child)
            } else {
                try child.pipeline.syncOperations.addHandler(FixedResponseHandler(response: response, closeAfter: false))
            }
        }
    }
}

/// Answers the first bytes of a connection with a fixed text, then ignores the rest (or closes).
final class FixedResponseHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let response: String
    private let closeAfter: Bool
    private var answered = false

    init(response: String, closeAfter: Bool) {
        self.response = response
        self.closeAfter = closeAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        answered = true
        let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: response)))
        if closeAfter {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A client that gives up mid-handshake is normal in these tests.
        context.close(promise: nil)
    }
}
