import Diagnosis
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket
@testable import Probe

/// A raw WebSocket client on the probe's dialer and NIOWebSocket's codec, for tests that
/// must see exact answers and close codes, or misbehave on purpose: never answer pings,
/// stop reading, send binary or oversize frames. Confined to the task that uses it.
final class WSRawClient: @unchecked Sendable {
    enum Event: Equatable, CustomStringConvertible {
        case text(String)
        case binary([UInt8])
        case ping([UInt8])
        case pong([UInt8])
        case close(code: Int?, reason: String)
        /// TCP ended (no close frame seen, or after it).
        case ended
        case timeout

        var description: String {
            switch self {
            case .text(let t): "text(\(t.prefix(200)))"
            case .binary(let b): "binary(\(b.count) bytes)"
            case .ping: "ping"
            case .pong: "pong"
            case .close(let c, let r): "close(\(c.map(String.init) ?? "-"), \(r))"
            case .ended: "ended"
            case .timeout: "timeout"
            }
        }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    let connection: Connection
    /// The answer to the upgrade request.
    let head: ResponseHead
    /// When the answer's head arrived, and how long it took.
    let handshakeSeconds: Double
    private var leftover: [UInt8]
    private var codec: FrameCodec?
    private var frames: [WebSocketFrame] = []
    private(set) var ended = false
    /// Answer server pings with pongs, as browsers do.
    var answerPings = true
    private(set) var pingsSeen = 0

    private init(connection: Connection, head: ResponseHead, leftover: [UInt8], handshakeSeconds: Double) {
        self.connection = connection
        self.head = head
        self.leftover = leftover
        self.handshakeSeconds = handshakeSeconds
    }

    /// Sends an upgrade (or, with `upgrade: false`, a plain GET) to `path` and runs `body`
    /// with the answer, whatever its status; the connection is closed afterwards.
    @discardableResult
    static func open<T: Sendable>(
        _ server: RunningServer, path: String, origin: String? = nil, headers: [(String, String)] = [],
        upgrade: Bool = true, rawRequest: String? = nil, timeout: Double = 10,
        _ body: @escaping @Sendable (WSRawClient) async throws -> T
    ) async throws -> T {
        let target = try Target.parse(server.ws + path)
        let dialer = Dialer(target: target, timeout: timeout, proxy: nil, group: MultiThreadedEventLoopGroup.singleton, tls: nil)
        let failure = NIOLockedValueBox<(any Error)?>(nil)
        let (record, value) = await dialer.withConnection { connection -> T? in
            do {
                let request = rawRequest ?? HandshakeRequest(
                    path: target.path, hostHeader: target.hostHeader, origin: origin, subprotocols: [], extensions: [],
                    extraHeaders: headers, upgrade: upgrade
                ).text
                let started = ContinuousClock.now
                try await connection.write(request)
                var parser = ResponseHeadParser()
                switch await connection.readResponseHead(until: .after(seconds: timeout), parser: &parser) {
                case .failed(let why, let printable):
                    throw Failure(description: "no HTTP answer to the upgrade: \(why) \(printable)")
                case .head(let head, let rest):
                    let client = WSRawClient(connection: connection, head: head, leftover: rest,
                                             handshakeSeconds: started.elapsedMs / 1000)
                    defer { Task { [codec = client.codec] in await codec?.finish() } }
                    return try await body(client)
                }
            } catch {
                failure.withLockedValue { $0 = error }
                return nil
            }
        }
        if let error = failure.withLockedValue({ $0 }) { throw error }
        guard let value = value ?? nil else {
            throw Failure(description: "could not connect to \(server.ws + path): \(record.failedStage?.rawValue ?? "?")")
        }
        return value
    }

    // MARK: a refusal's body

    /// The body of a non-101 answer (by Content-Length, or until the connection ends).
    func body(timeout: Double = 5) async -> String {
        var bytes = leftover
        leftover = []
        let length = head.header("Content-Length").flatMap(Int.init)
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while length.map({ bytes.count < $0 }) ?? true {
            guard case .data(var b) = await connection.read(until: deadline) else { break }
            bytes += b.readBytes(length: b.readableBytes) ?? []
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: frames

    func send(_ opcode: WebSocketOpcode, _ bytes: [UInt8], fin: Bool = true) async throws {
        let codec = try await self.codec()
        try await connection.write(await codec.encode(opcode: opcode, payload: ByteBuffer(bytes: bytes), fin: fin))
    }

    func send(text: String) async throws { try await send(.text, Array(text.utf8)) }

    func sendClose(code: UInt16, reason: String = "") async throws {
        var payload = ByteBuffer()
        payload.writeInteger(code)
        payload.writeString(reason)
        try await send(.connectionClose, Array(payload.readableBytesView))
    }

    /// The next frame, until `timeout`. Server pings are answered first when `answerPings`.
    func next(timeout: Double = 5) async throws -> Event {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        let codec = try await self.codec()
        if !leftover.isEmpty {
            frames += try await codec.decode(ByteBuffer(bytes: leftover))
            leftover = []
        }
        while true {
            if !frames.isEmpty {
                let frame = frames.removeFirst()
                let data = Array(frame.unmaskedData.readableBytesView)
                switch frame.opcode {
                case .text: return .text(String(decoding: data, as: UTF8.self))
                case .binary: return .binary(data)
                case .ping:
                    pingsSeen += 1
                    if answerPings { try? await send(.pong, data) }
                    return .ping(data)
                case .pong: return .pong(data)
                case .connectionClose:
                    let code = data.count >= 2 ? Int(data[0]) << 8 | Int(data[1]) : nil
                    return .close(code: code, reason: String(decoding: data.dropFirst(2), as: UTF8.self))
                default: return .binary(data)
                }
            }
            if ended { return .ended }
            switch await connection.read(until: deadline) {
            case .timeout: return .timeout
            case .ended:
                ended = true
            case .data(let buffer):
                frames += try await codec.decode(buffer)
            }
        }
    }

    /// The next text message (skipping pings and pongs); fails on anything else.
    func text(timeout: Double = 5) async throws -> String {
        while true {
            switch try await next(timeout: timeout) {
            case .text(let t): return t
            case .ping, .pong: continue
            case let other: throw Failure(description: "expected a text message, got \(other)")
            }
        }
    }

    /// The next text message as a JSON object.
    func json(timeout: Double = 5) async throws -> [String: Any] {
        let t = try await text(timeout: timeout)
        guard let object = try JSONSerialization.jsonObject(with: Data(t.utf8)) as? [String: Any] else {
            throw Failure(description: "not a JSON object: \(t)")
        }
        return object
    }

    /// Sends `op` (a JSON text) and returns the next JSON message.
    func ask(_ text: String, timeout: Double = 5) async throws -> [String: Any] {
        try await send(text: text)
        return try await json(timeout: timeout)
    }

    /// Reads on (skipping messages and pings) until the server's close frame; nil when
    /// TCP ended first or nothing came in time.
    func closeFrame(timeout: Double = 5) async throws -> (code: Int?, reason: String)? {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while true {
            let left = Double((deadline - .now).components.seconds) + Double((deadline - .now).components.attoseconds) / 1e18
            switch try await next(timeout: max(0, left)) {
            case .close(let code, let reason): return (code, reason)
            case .ended, .timeout: return nil
            default: continue
            }
        }
    }

    /// Waits until TCP ends; false when it is still open after `timeout`.
    func waitForEnd(timeout: Double = 5) async throws -> Bool {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while true {
            let left = Double((deadline - .now).components.seconds) + Double((deadline - .now).components.attoseconds) / 1e18
            switch try await next(timeout: max(0, left)) {
            case .ended: return true
            case .timeout: return false
            default: continue
            }
        }
    }

    private func codec() async throws -> FrameCodec {
        if let codec { return codec }
        let made = try await FrameCodec.make(maxFrameSize: 1 << 24)
        codec = made
        return made
    }
}

extension WSRawClient {
    /// The welcome of `/ws`, checked and returned.
    @discardableResult
    func welcome() async throws -> [String: Any] {
        let w = try await json()
        guard w["op"] as? String == "welcome" else { throw Failure(description: "expected welcome, got \(w)") }
        return w
    }
}
