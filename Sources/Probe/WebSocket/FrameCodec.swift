import NIOCore
import NIOEmbedded
import NIOWebSocket

/// NIOWebSocket's own frame decoder and encoder, run in a `NIOAsyncTestingChannel` so
/// the probe can feed them bytes from its async connection and get frames back.
///
/// `NIOAsyncTestingChannel` (not `EmbeddedChannel`) because async code hops threads and
/// `EmbeddedChannel` may only be touched — and freed — on the thread that made it.
/// Call `finish()` when done: it completes the channel's close promise.
final class FrameCodec: Sendable {
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

    private let channel: NIOAsyncTestingChannel

    private init(channel: NIOAsyncTestingChannel) { self.channel = channel }

    static func make(maxFrameSize: Int) async throws -> FrameCodec {
        let channel = try await NIOAsyncTestingChannel { channel in
            try channel.pipeline.syncOperations.addHandlers([
                ByteToMessageHandler(WebSocketFrameDecoder(maxFrameSize: maxFrameSize)),
                WebSocketFrameEncoder(),
            ])
        }
        return FrameCodec(channel: channel)
    }

    /// Feeds received bytes; returns the complete frames they finish.
    func decode(_ bytes: ByteBuffer) async throws(DecodeError) -> [WebSocketFrame] {
        do {
            try await channel.writeInbound(bytes)
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
        while let frame = try? await channel.readInbound(as: WebSocketFrame.self) { frames.append(frame) }
        return frames
    }

    /// Encodes a client frame: masked with a random key, as RFC 6455 §5.3 requires.
    func encode(opcode: WebSocketOpcode, payload: ByteBuffer, fin: Bool = true) async -> ByteBuffer {
        let frame = WebSocketFrame(fin: fin, opcode: opcode, maskKey: .random(), data: payload)
        _ = try? await channel.writeOutbound(frame)
        var out = ByteBuffer()
        while var chunk = try? await channel.readOutbound(as: ByteBuffer.self) { out.writeBuffer(&chunk) }
        return out
    }

    /// Closes the codec's channel; unparsed leftovers (a torn frame) are dropped.
    func finish() async {
        _ = try? await channel.finish(acceptAlreadyClosed: true)
    }
}
