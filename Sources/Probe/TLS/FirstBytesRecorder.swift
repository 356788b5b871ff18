import NIOCore

/// Keeps a copy of the first bytes the server sends, in front of the TLS handler. When the answer
/// to our ClientHello is not TLS at all — `HTTP/1.1 400 Bad Request` from a plain HTTP port — the
/// TLS library only says "wrong version number"; these bytes say what is really listening. They
/// also hold the server's hello, whose cipher suite NIOSSL does not expose.
final class FirstBytesRecorder: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    /// Enough for a ServerHello or an HTTP status line with some headers; bounded so a flood costs nothing.
    static let limit = 1024

    private(set) var bytes: [UInt8] = []

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if bytes.count < Self.limit {
            let buffer = unwrapInboundIn(data)
            let take = min(buffer.readableBytes, Self.limit - bytes.count)
            bytes += buffer.getBytes(at: buffer.readerIndex, length: take) ?? []
        }
        context.fireChannelRead(data)
    }
}
