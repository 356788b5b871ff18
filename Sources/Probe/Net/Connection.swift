import Diagnosis
import NIOCore

/// One open connection as the probe logic sees it: write bytes, read with a deadline.
struct Connection: Sendable {
    let channel: any Channel
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let inbox: Inbox
    /// When the connection was established (after TCP, proxy tunnel and TLS).
    let openedAt: ContinuousClock.Instant

    func write(_ text: String) async throws {
        try await outbound.write(ByteBuffer(string: text))
    }

    func write(_ bytes: ByteBuffer) async throws {
        try await outbound.write(bytes)
    }

    func read(until deadline: ContinuousClock.Instant) async -> Inbox.Event {
        await inbox.next(deadline: deadline)
    }

    /// Reads an HTTP response head, bounded in size and time.
    func readResponseHead(until deadline: ContinuousClock.Instant, parser: inout ResponseHeadParser) async -> HeadRead {
        while true {
            switch await read(until: deadline) {
            case .timeout:
                return .failed(.timeout(bytesReceived: parser.received), printable: parser.printablePrefix)
            case .ended(let end):
                let received = parser.received
                switch end {
                case .reset: return .failed(.reset(bytesReceived: received), printable: parser.printablePrefix)
                default: return .failed(.closed(bytesReceived: received), printable: parser.printablePrefix)
                }
            case .data(var buffer):
                let bytes = buffer.readBytes(length: buffer.readableBytes) ?? []
                switch parser.feed(bytes) {
                case .needMore: continue
                case .head(let head, let leftover): return .head(head, leftover: leftover)
                case .notHTTP(let text): return .failed(.notHTTP(text), printable: text)
                case .tlsRecord: return .failed(.tlsAnswer, printable: parser.printablePrefix)
                case .tooLarge(let n): return .failed(.headTooLarge(n), printable: parser.printablePrefix)
                }
            }
        }
    }

    enum HeadRead: Sendable {
        case head(ResponseHead, leftover: [UInt8])
        case failed(HandshakeEvidence.Failure, printable: String)
    }
}

extension ContinuousClock.Instant {
    static func after(seconds: Double) -> ContinuousClock.Instant {
        .now + .nanoseconds(Int64(seconds * 1e9))
    }

    /// Milliseconds elapsed since this instant.
    var elapsedMs: Double {
        let d = ContinuousClock.now - self
        return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}
