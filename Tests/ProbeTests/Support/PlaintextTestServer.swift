import NIOCore

/// A plain TCP server on 127.0.0.1 that does not speak TLS, for the handshake failures:
/// a plain HTTP port (`wss://` to a `ws://` server), a silent peer, a peer that hangs up.
enum PlaintextTestServer {
    enum Behaviour: Sendable {
        /// Answer the first bytes (our ClientHello) with this text, then close.
        case answer(String)
        /// Accept and never say anything.
        case silent
        /// Close as soon as bytes arrive.
        case closeOnData
    }

    static let badRequest = "HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"

    static func start(_ behaviour: Behaviour = .answer(badRequest)) async throws -> LocalTestServer {
        try await LocalTestServer.start { child in
            switch behaviour {
            case .answer(let text):
                try child.pipeline.syncOperations.addHandler(FixedResponseHandler(response: text, closeAfter: true))
            case .silent:
                break
            case .closeOnData:
                try child.pipeline.syncOperations.addHandler(CloseOnDataHandler())
            }
        }
    }
}

/// Hangs up on the first bytes, without a word.
final class CloseOnDataHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        context.close(promise: nil)
    }
}
