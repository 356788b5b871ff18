import NIOCore
import NIOEmbedded
import NIOWebSocket

/// NIOWebSocket's own frame decoder and encoder, run in an `EmbeddedChannel` so the
/// probe can feed them bytes from its async connection and get frames back without
/// rebuilding the pipeline of a live socket. Confined to one task; not Sendable.
final class FrameCodec {
    private let channel: EmbeddedChannel

    enum DecodeError: Error, Equatable {
        /// The frame declares more than `maxFrameSize` bytes.
        case tooLarge
        case fragmentedControlFrame
        case controlFrameTooLong
        case other(String)

        var rule: String {
            switch self {
            case .tooLarge: "frame-too-large"
            case .fragmentedControlFrame: "fragmented-control-frame"
            case .controlFrameTooLong: "control-frame-too-long"
            case .other: "malformed-frame"
            }
        }
    }

    init(maxFrameSize: Int) {
        channel = EmbeddedChannel()
        // Both handlers are added synchronously: EmbeddedChannel runs on the calling thread.
        try! channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)),
            WebSocketFrameEncoder(),
        ])
    }

    /// Feeds received bytes; returns the complete frames they finish.
    func decode(_ bytes: ByteBuffer) throws(DecodeError) -> [WebSocketFrame] {
        do {
            try channel.writeInbound(bytes)
        } catch let error as NIOWebSocketError {
            switch error {
            case .invalidFrameLength: throw .tooLarge
            case .fragmentedControlFrame: throw .fragmentedControlFrame
            case .multiByteControlFrameLength: throw .controlFrameTooLong
            }
        } catch {
            throw .other(String(describing: error))
        }
        var frames: [WebSocketFrame] = []
        while let frame = try? channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    /// Encodes a client frame: masked with a random key, as RFC 6455 §5.3 requires.
    func encode(opcode: WebSocketOpcode, payload: ByteBuffer, fin: Bool = true) -> ByteBuffer {
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: payload)
        _ = try? channel.writeOutbound(frame)
        var out = ByteBuffer()
        while var chunk = try? channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&chunk) }
        return out
    }

    func close() { _ = try? channel.finish() }
}
