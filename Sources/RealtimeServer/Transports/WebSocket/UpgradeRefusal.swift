import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes
import RealtimeCore

/// Writes a refusal of an upgrade straight to the socket.
///
/// HummingbirdWebSocket answers every `.dontUpgrade` with an empty 400 of its own, and
/// never passes the request to the router. The spec wants a JSON 403 for a refused
/// origin, a 503 with `Retry-After` at capacity, and the faults their own answers; so
/// this handler goes first in the pipeline (next to the socket), writes the complete
/// answer, and swallows whatever is written after it (that empty 400), letting the close
/// through once the answer is out.
final class UpgradeRefusalHandler: ChannelOutboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias OutboundIn = NIOAny
    typealias OutboundOut = ByteBuffer

    private let response: ByteBuffer
    private var sent: EventLoopFuture<Void>?

    init(_ response: RawHTTPResponse) {
        self.response = ByteBuffer(string: response.text)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        sent = context.writeAndFlush(wrapOutboundOut(response))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        promise?.succeed(())
    }

    func flush(context: ChannelHandlerContext) {}

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard let sent else {
            context.close(mode: mode, promise: promise)
            return
        }
        sent.assumeIsolated().whenComplete { _ in
            context.close(mode: mode, promise: promise)
        }
    }

    static func refuse(_ channel: any Channel, with response: RawHTTPResponse) async throws {
        try await channel.pipeline.addHandler(UpgradeRefusalHandler(response), position: .first)
    }
}

/// In the HTTP pipeline of a connection that was not upgraded, it keeps two of
/// Hummingbird's and NIO's ways of ending an upgrade attempt from being silent or looping.
///
/// - On the first request, a leftover `Upgrade` header is moved aside (to
///   `x-wsdoctor-upgrade`) so the router answers it. Hummingbird answers any request with
///   `Upgrade: websocket` that reaches the HTTP side with a 307 to itself, expecting a
///   retry on a fresh connection where the upgrade can run. That is right for a second
///   request on a kept-alive connection, but on the first one NIO already tried and
///   declined the upgrade: the retry would loop for ever. The router's `/ws` route
///   answers 426 instead, and logs what came.
/// - When NIO refuses an upgrade before the server is asked (no `Sec-WebSocket-Key`, a
///   version other than 13) it consumes the request head, and the HTTP side sees a
///   request without one, which Hummingbird drops by closing the connection. This
///   answers it 426 with `Sec-WebSocket-Version: 13` instead (no nonce is known: not logged).
final class UpgradeHeaderStash: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    static let field = HTTPField.Name("x-wsdoctor-upgrade")!
    private var first = true
    private var refusing = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if refusing { return }
        guard case .head(var head) = unwrapInboundIn(data) else {
            if first {
                first = false
                refuseHeadless(context: context)
                return
            }
            context.fireChannelRead(data)
            return
        }
        // Never trust the client with the stash field.
        head.headerFields[Self.field] = nil
        if first, let upgrade = head.headerFields[.upgrade] {
            head.headerFields[.upgrade] = nil
            head.headerFields[Self.field] = upgrade
        }
        first = false
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    private func refuseHeadless(context: ChannelHandlerContext) {
        refusing = true
        let body = WebSocketTransport.upgradeRequired(path: nil)
        var fields = HTTPFields()
        for h in body.headers {
            if let name = HTTPField.Name(h.name) { fields[name] = h.value }
        }
        fields[.connection] = "close"
        fields[.contentLength] = String(body.body.utf8.count)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: body.status), headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(string: body.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
