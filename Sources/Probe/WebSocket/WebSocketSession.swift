import Diagnosis
import Foundation
import NIOCore
import NIOWebSocket

/// An upgraded connection, driven step by step by the probe: it decodes the server's
/// frames with NIOWebSocket, checks them against RFC 6455, answers pings as a browser
/// would, and reports how and when the connection ended. Confined to one task.
final class WebSocketSession {
    enum Event: Equatable {
        case message(FrameRules.Incoming)
        case ended(ConnectionEnd)
        case timeout
    }

    private let connection: Connection
    private let codec: FrameCodec
    private var rules: FrameRules
    private var queue: [FrameRules.Incoming] = []
    private(set) var ended: ConnectionEnd?
    let upgradedAt: ContinuousClock.Instant
    private(set) var lastTraffic: ContinuousClock.Instant
    private(set) var serverPings = 0

    private init(connection: Connection, codec: FrameCodec, maxFrameSize: Int, extensions: [String]) {
        self.connection = connection
        self.codec = codec
        self.rules = FrameRules(negotiatedExtensions: extensions, maxMessageSize: maxFrameSize)
        self.upgradedAt = .now
        self.lastTraffic = .now
    }

    /// A session on an upgraded connection; `leftover` are bytes that came with the 101.
    static func start(connection: Connection, leftover: [UInt8], maxFrameSize: Int, extensions: [String])
        async throws -> WebSocketSession
    {
        let codec = try await FrameCodec.make(maxFrameSize: maxFrameSize)
        let session = WebSocketSession(connection: connection, codec: codec, maxFrameSize: maxFrameSize, extensions: extensions)
        if !leftover.isEmpty { await session.ingest(ByteBuffer(bytes: leftover)) }
        return session
    }

    /// Releases the frame codec; call once the session is over.
    func finish() async { await codec.finish() }

    private var sinceUpgradeMs: Double { upgradedAt.elapsedMs }

    private func ingest(_ buffer: ByteBuffer) async {
        guard ended == nil else { return }
        do {
            for frame in try await codec.decode(buffer) {
                lastTraffic = .now
                if let incoming = try rules.accept(frame) { queue.append(incoming) }
            }
        } catch let error as FrameCodec.DecodeError {
            let detail: String
            switch error {
            case .tooLarge: detail = "the server announced a frame larger than the probe's limit"
            case .fragmentedControlFrame: detail = "a control frame was fragmented (RFC 6455 §5.5)"
            case .controlFrameTooLong: detail = "a control frame is longer than 125 bytes (RFC 6455 §5.5)"
            case .other(let why): detail = why
            }
            ended = .violation(rule: error.rule, detail: detail, afterMs: sinceUpgradeMs)
        } catch let violation as FrameRules.Violation {
            ended = .violation(rule: violation.rule, detail: violation.detail, afterMs: sinceUpgradeMs)
        } catch {
            ended = .violation(rule: "malformed-frame", detail: "\(error)", afterMs: sinceUpgradeMs)
        }
    }

    /// The next message or control frame, until `deadline`. Server pings are answered
    /// here (and counted) before being passed on.
    func next(until deadline: ContinuousClock.Instant) async -> Event {
        while true {
            if !queue.isEmpty {
                let item = queue.removeFirst()
                if case .ping(let payload) = item {
                    serverPings += 1
                    try? await send(.pong, payload)
                }
                if case .close(let code, let reason) = item, ended == nil {
                    ended = .closeFrame(code: code, reason: reason, afterMs: sinceUpgradeMs)
                }
                return .message(item)
            }
            if let ended { return .ended(ended) }
            switch await connection.read(until: deadline) {
            case .timeout: return .timeout
            case .data(let buffer): await ingest(buffer)
            case .ended(let end):
                switch end {
                case .reset: ended = .reset(afterMs: sinceUpgradeMs)
                default: ended = .eof(afterMs: sinceUpgradeMs)
                }
            }
        }
    }

    func send(_ opcode: WebSocketOpcode, _ payload: ByteBuffer) async throws {
        try await connection.write(await codec.encode(opcode: opcode, payload: payload))
        lastTraffic = .now
    }

    func sendText(_ text: String) async throws { try await send(.text, ByteBuffer(string: text)) }

    func sendClose(code: UInt16, reason: String) async throws {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        payload.writeString(reason)
        try await send(.connectionClose, payload)
    }

    /// Waits for the server to end TCP after the close handshake.
    func waitForEOF(until deadline: ContinuousClock.Instant) async -> Bool {
        while true {
            switch await connection.read(until: deadline) {
            case .timeout: return false
            case .ended: return true
            case .data: continue
            }
        }
    }
}
