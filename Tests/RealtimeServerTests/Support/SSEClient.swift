import Diagnosis
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOPosix
@testable import Probe
import RealtimeServer
import ServiceLifecycle

/// One Server-Sent Event as a client sees it. A block made only of comment lines (`: ping`)
/// is reported too, with `comment` set, so tests can see pings.
struct SSEEvent: Sendable, Equatable {
    var id: String?
    var event: String?
    var data: String = ""
    var retry: Int?
    var comment: String?

    var isComment: Bool { comment != nil && event == nil && data.isEmpty && id == nil && retry == nil }
    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(data.utf8)) as? [String: Any] }
    /// `offset` of a `message` event's data.
    var offset: Int? { json?["offset"] as? Int }
}

/// A streaming HTTP client for `/sse`, on the probe's own dialer: the response head at
/// once, then events one by one as they arrive, every read bounded in time and size.
/// The connection closes when the body given to `SSEClient.connect` returns.
final class SSEConnection {
    struct Failure: Error, CustomStringConvertible { var description: String }

    let status: Int
    let headers: [(String, String)]
    /// The whole body, for answers that are not event streams (errors).
    private(set) var body = ""
    private let connection: Connection
    private var chunks = ChunkedDecoder()
    private let chunked: Bool
    private var pending: [UInt8] = []
    private var events: [SSEEvent] = []
    private(set) var ended = false
    static let maxPending = 4 << 20

    fileprivate init(connection: Connection, head: ResponseHead, leftover: [UInt8]) {
        self.connection = connection
        status = head.status
        headers = head.headers
        chunked = head.headerTokens("Transfer-Encoding").contains { $0.lowercased() == "chunked" }
        feed(leftover)
    }

    func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }

    /// The next event (comments included); nil when the stream ended. Throws on timeout.
    func next(timeout: Double = 10) async throws -> SSEEvent? {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while events.isEmpty {
            if ended { return nil }
            switch await connection.read(until: deadline) {
            case .data(var buffer): feed(buffer.readBytes(length: buffer.readableBytes) ?? [])
            case .ended: ended = true
            case .timeout: throw Failure(description: "no event within \(timeout) s")
            }
        }
        return events.removeFirst()
    }

    /// The next event that carries something (not a comment, not a lone `retry:`).
    func nextEvent(timeout: Double = 10) async throws -> SSEEvent? {
        while let e = try await next(timeout: timeout) {
            if e.event != nil || e.id != nil || !e.data.isEmpty { return e }
        }
        return nil
    }

    /// Reads until the server ends the stream (bounded), returning the events.
    func readToEnd(timeout: Double = 10) async throws -> [SSEEvent] {
        var out: [SSEEvent] = []
        while let e = try await next(timeout: timeout) {
            out.append(e)
            if out.count > 100_000 { throw Failure(description: "the stream does not end") }
        }
        return out
    }

    /// Reads the whole body of a non-stream answer (Content-Length).
    fileprivate func readBody(length: Int, timeout: Double) async {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while pending.count < length, !ended {
            switch await connection.read(until: deadline) {
            case .data(var b): pending += b.readBytes(length: b.readableBytes) ?? []
            case .ended, .timeout: ended = true
            }
        }
        body = String(decoding: pending.prefix(length), as: UTF8.self)
    }

    private func feed(_ bytes: [UInt8]) {
        guard status == 200 else { pending += bytes; return }
        if chunked {
            let (data, done) = chunks.feed(bytes)
            pending += data
            if done { ended = true }
        } else {
            pending += bytes
        }
        parseEvents()
        if pending.count > Self.maxPending { ended = true }
    }

    private func parseEvents() {
        var start = 0
        while let end = Self.blockEnd(pending, from: start) {
            let block = String(decoding: pending[start..<end], as: UTF8.self)
            if let e = Self.event(block) { events.append(e) }
            start = end + 2
        }
        if start > 0 { pending.removeFirst(start) }
    }

    private static func blockEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 1 < bytes.count {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { return i }
            i += 1
        }
        return nil
    }

    static func event(_ block: String) -> SSEEvent? {
        var e = SSEEvent()
        var dataLines: [String] = []
        for line in block.split(separator: "\n", omittingEmptySubsequences: true) {
            if line.hasPrefix(":") {
                e.comment = line.dropFirst().trimmingCharacters(in: .whitespaces)
                continue
            }
            let parts = line.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            var value = parts.count == 2 ? String(parts[1]) : ""
            if value.hasPrefix(" ") { value.removeFirst() }
            switch parts[0] {
            case "id": e.id = value
            case "event": e.event = value
            case "data": dataLines.append(value)
            case "retry": e.retry = Int(value)
            default: break
            }
        }
        e.data = dataLines.joined(separator: "\n")
        return e
    }
}

/// `Transfer-Encoding: chunked`, decoded incrementally.
struct ChunkedDecoder {
    private var raw: [UInt8] = []
    private(set) var done = false

    /// The payload bytes now complete, and whether the last chunk arrived.
    mutating func feed(_ bytes: [UInt8]) -> ([UInt8], Bool) {
        raw += bytes
        var out: [UInt8] = []
        var i = 0
        while !done {
            guard let lf = raw[i...].firstIndex(of: 0x0A) else { break }
            let sizeText = String(decoding: raw[i..<lf], as: UTF8.self).split(separator: ";").first?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            guard sizeText.count <= 8, let size = Int(sizeText, radix: 16) else { done = true; break }
            if size == 0 { done = true; break }
            let start = lf + 1
            guard raw.count >= start + size + 2 else { break }
            out += raw[start..<start + size]
            i = start + size + 2
        }
        raw.removeFirst(min(i, raw.count))
        return (out, done)
    }
}

enum SSEClient {
    /// Opens `GET url` (an `/sse` URL), gives the connection to `body`, closes it after.
    static func connect<T: Sendable>(
        _ url: String, headers: [(String, String)] = [], timeout: Double = 10,
        _ body: @escaping @Sendable (SSEConnection) async throws -> T
    ) async throws -> T {
        let target = try Target.parse(url)
        let dialer = Dialer(target: target, timeout: timeout, proxy: nil, group: MultiThreadedEventLoopGroup.singleton, tls: nil)
        let (record, value) = await dialer.withConnection { connection -> Result<T, any Error> in
            var text = "GET \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nAccept: text/event-stream\r\n"
            for (n, v) in headers { text += "\(n): \(v)\r\n" }
            text += "\r\n"
            try await connection.write(text)
            var parser = ResponseHeadParser()
            guard case .head(let head, let leftover) = await connection.readResponseHead(
                until: .after(seconds: timeout), parser: &parser)
            else { return .failure(SSEConnection.Failure(description: "GET \(url): no response head")) }
            let sse = SSEConnection(connection: connection, head: head, leftover: leftover)
            if head.status != 200 {
                await sse.readBody(length: head.header("Content-Length").flatMap { Int($0) } ?? 0, timeout: timeout)
            }
            do { return .success(try await body(sse)) } catch { return .failure(error) }
        }
        guard let value else {
            throw SSEConnection.Failure(description: "GET \(url): could not connect (\(record.failedStage?.rawValue ?? "?"))")
        }
        return try value.get()
    }
}

extension RunningServer {
    /// `connections.<kind>` of `/api/health`.
    func connections(_ kind: String) async throws -> Int? {
        let health = try await HTTP.request("GET", http + "/api/health")
        return (health.json?["connections"] as? [String: Any])?[kind] as? Int
    }

    /// Waits (bounded) until `connections.<kind>` of `/api/health` is `count`.
    func waitForConnections(_ kind: String, _ count: Int, timeout: Double = 10) async throws -> Bool {
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        while ContinuousClock.now < deadline {
            if try await connections(kind) == count { return true }
            try await Task.sleep(for: .milliseconds(20))
        }
        return false
    }

    /// Publishes `json` on `channel`; returns the answer's (epoch, offset).
    @discardableResult
    func publish(_ channel: String, _ json: String) async throws -> (epoch: String, offset: Int) {
        let r = try await HTTP.request("POST", http + "/api/channels/\(channel)/publish", body: json)
        guard r.status == 200, let epoch = r.json?["epoch"] as? String, let offset = r.json?["offset"] as? Int else {
            throw SSEConnection.Failure(description: "publish on \(channel): \(r.status) \(r.body)")
        }
        return (epoch, offset)
    }
}
