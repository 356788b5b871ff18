import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import NIOWebSocket
@testable import Probe

/// An HTTP request as the fault server read it.
struct FaultRequest: Sendable {
    var method: String
    var path: String
    var headers: [(String, String)]

    func header(_ name: String) -> String? {
        headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
    }

    var isUpgrade: Bool {
        (header("Upgrade") ?? "").lowercased().contains("websocket")
            && (header("Connection") ?? "").lowercased().contains("upgrade")
    }

    var pathOnly: String { String(path.split(separator: "?").first ?? "") }
}

/// What a test server does with each accepted connection.
typealias FaultBehavior = @Sendable (FaultConnection) async throws -> Void

/// Behaviours several suites share.
enum FaultBehaviors {
    /// A well-behaved app: health, 426 to a plain GET of the WebSocket path, and a correct
    /// WebSocket (echo, pong, close handshake) on upgrade.
    static let echoWebSocket: FaultBehavior = { c in
        await c.serveLikeAnApp { req in
            await c.upgrade(req)
            await c.serveWebSocket()
        }
    }
}

/// A server on 127.0.0.1 (ephemeral port) that misbehaves on purpose, one behaviour
/// per test, so the probe meets real bytes on a real socket.
enum FaultServer {
    /// Runs the server while `body` runs; stops it (and every connection) afterwards.
    static func with<T: Sendable>(
        tls: NIOSSLContext? = nil, _ behavior: @escaping FaultBehavior,
        _ body: @Sendable (_ port: Int) async throws -> T
    ) async throws -> T {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0) { child in
                child.eventLoop.makeCompletedFuture {
                    if let tls {
                        try child.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls))
                    }
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: child)
                }
            }
        let port = server.channel.localAddress!.port!
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await withThrowingDiscardingTaskGroup { connections in
                    try await server.executeThenClose { inbound in
                        for try await child in inbound {
                            connections.addTask {
                                try? await child.executeThenClose { input, output in
                                    let inbox = Inbox()
                                    await withTaskGroup(of: Void.self) { pump in
                                        pump.addTask {
                                            do {
                                                for try await chunk in input { await inbox.append(chunk) }
                                                inbox.finish(.eof)
                                            } catch { inbox.finish(.reset) }
                                        }
                                        let connection = FaultConnection(inbox: inbox, output: output, channel: child.channel)
                                        try? await behavior(connection)
                                        await connection.finish()
                                        child.channel.close(promise: nil)
                                        pump.cancelAll()
                                    }
                                }
                            }
                        }
                    }
                }
            }
            defer { group.cancelAll() }
            let result = try await body(port)
            server.channel.close(promise: nil)
            return result
        }
    }
}

/// One accepted connection, driven by a behaviour. Confined to its task.
final class FaultConnection {
    let inbox: Inbox
    let output: NIOAsyncChannelOutboundWriter<ByteBuffer>
    let channel: any Channel
    private var pending: [UInt8] = []
    private var codec: FrameCodec?
    private var frames: [WebSocketFrame] = []

    init(inbox: Inbox, output: NIOAsyncChannelOutboundWriter<ByteBuffer>, channel: any Channel) {
        self.inbox = inbox
        self.output = output
        self.channel = channel
    }

    /// Releases the frame codec, if one was made; the server calls it after the behaviour.
    func finish() async { await codec?.finish() }

    /// Reads one request head; nil when the client went away or `timeout` passed.
    func readRequest(timeout: Double = 10) async -> FaultRequest? {
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while true {
            if let end = pending.firstRange(of: Array("\r\n\r\n".utf8)) {
                let head = String(decoding: pending[..<end.lowerBound], as: UTF8.self)
                pending.removeSubrange(..<end.upperBound)
                let lines = head.split(whereSeparator: \.isNewline).map(String.init)
                let parts = (lines.first ?? "").split(separator: " ")
                guard parts.count >= 2 else { return nil }
                let headers = lines.dropFirst().compactMap { line -> (String, String)? in
                    guard let colon = line.firstIndex(of: ":") else { return nil }
                    return (String(line[..<colon]), line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
                }
                return FaultRequest(method: String(parts[0]), path: String(parts[1]), headers: headers)
            }
            switch await inbox.next(deadline: deadline) {
            case .data(var b): pending += b.readBytes(length: b.readableBytes) ?? []
            case .ended, .timeout: return nil
            }
        }
    }

    func send(_ text: String) async { try? await output.write(ByteBuffer(string: text)) }
    func send(bytes: [UInt8]) async { try? await output.write(ByteBuffer(bytes: bytes)) }
    func close() async { try? await channel.close() }

    /// A plain HTTP answer with a body.
    func respond(_ status: Int, _ reason: String, headers: [(String, String)] = [], body: String = "") async {
        var text = "HTTP/1.1 \(status) \(reason)\r\n"
        for (n, v) in headers { text += "\(n): \(v)\r\n" }
        text += "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
        await send(text)
    }

    /// A correct 101 for `request` (override pieces to break it on purpose).
    func upgrade(_ request: FaultRequest, accept: String? = nil, upgradeHeader: String? = "websocket",
                 connectionHeader: String? = "Upgrade", extraHeaders: [(String, String)] = []) async {
        let key = request.header("Sec-WebSocket-Key") ?? ""
        var text = "HTTP/1.1 101 Switching Protocols\r\n"
        if let upgradeHeader { text += "Upgrade: \(upgradeHeader)\r\n" }
        if let connectionHeader { text += "Connection: \(connectionHeader)\r\n" }
        text += "Sec-WebSocket-Accept: \(accept ?? HandshakeRequest.accept(forKey: key))\r\n"
        for (n, v) in extraHeaders { text += "\(n): \(v)\r\n" }
        text += "\r\n"
        await send(text)
    }

    /// Next frame from the client (masked, as clients must), or nil at end/timeout.
    func readFrame(timeout: Double = 10) async -> WebSocketFrame? {
        if self.codec == nil { self.codec = try? await FrameCodec.make(maxFrameSize: 1 << 20) }
        guard let codec = self.codec else { return nil }
        if !pending.isEmpty {
            frames += (try? await codec.decode(ByteBuffer(bytes: pending))) ?? []
            pending = []
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(timeout * 1000))
        while frames.isEmpty {
            switch await inbox.next(deadline: deadline) {
            case .data(let b): frames += (try? await codec.decode(b)) ?? []
            case .ended, .timeout: return nil
            }
        }
        return frames.removeFirst()
    }

    /// Writes a server frame byte by byte, so tests can break any rule of RFC 6455.
    func sendFrame(opcode: UInt8, payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0, mask: [UInt8]? = nil,
                   declaredLength: UInt64? = nil) async {
        var bytes: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
        let length = declaredLength ?? UInt64(payload.count)
        let maskBit: UInt8 = mask == nil ? 0 : 0x80
        if length < 126 {
            bytes.append(maskBit | UInt8(length))
        } else if length <= 0xFFFF {
            bytes.append(maskBit | 126)
            bytes += [UInt8(length >> 8), UInt8(length & 0xFF)]
        } else {
            bytes.append(maskBit | 127)
            bytes += (0..<8).reversed().map { UInt8((length >> (UInt64($0) * 8)) & 0xFF) }
        }
        var body = payload
        if let mask {
            bytes += mask
            for i in body.indices { body[i] ^= mask[i % 4] }
        }
        await send(bytes: bytes + body)
    }

    func sendClose(code: UInt16, reason: String = "") async {
        await sendFrame(opcode: 0x8, payload: [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// A well-behaved WebSocket server loop: echo, pong, close handshake.
    /// `answerPings: false` ignores pings; `idleCut` drops TCP after that much silence.
    func serveWebSocket(answerPings: Bool = true, idleCut: Double? = nil, maxSeconds: Double = 120) async {
        let started = ContinuousClock.now
        while ContinuousClock.now - started < .seconds(maxSeconds) {
            guard let frame = await readFrame(timeout: idleCut ?? maxSeconds) else {
                await close()  // client gone, or silent for `idleCut` seconds
                return
            }
            var data = frame.unmaskedData
            let payload = data.readBytes(length: data.readableBytes) ?? []
            switch frame.opcode {
            case .ping where answerPings: await sendFrame(opcode: 0xA, payload: payload)
            case .text: await sendFrame(opcode: 0x1, payload: payload)
            case .binary: await sendFrame(opcode: 0x2, payload: payload)
            case .connectionClose:
                await sendFrame(opcode: 0x8, payload: Array(payload.prefix(2)))
                await close()
                return
            default: continue
            }
        }
        await close()
    }

    /// Serves `/api/health` (200) and `/api/realtime` (404) like an ordinary app, answers a
    /// plain GET of another path with 426 like WebSocket servers do, and hands upgrade
    /// requests to `onUpgrade`.
    func serveLikeAnApp(onUpgrade: (FaultRequest) async -> Void) async {
        guard let request = await readRequest() else { return await close() }
        if request.isUpgrade { return await onUpgrade(request) }
        switch request.pathOnly {
        case "/api/health": await respond(200, "OK", headers: [("Content-Type", "application/json")], body: #"{"status":"ok"}"#)
        case "/api/realtime", "/health", "/healthz": await respond(404, "Not Found", body: "not found")
        default: await respond(426, "Upgrade Required", headers: [("Upgrade", "websocket")], body: "Upgrade Required")
        }
        await close()
    }
}
