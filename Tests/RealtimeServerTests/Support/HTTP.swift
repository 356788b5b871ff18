import Foundation
import NIOCore
import NIOPosix
@testable import Probe
import Diagnosis

/// A small real HTTP/1.1 client for tests, built on the probe's own dialer (bounded,
/// no proxy): one request per connection, the whole body read.
enum HTTP {
    struct Answer: Sendable {
        var status: Int
        var headers: [(String, String)]
        var body: String
        var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
        func header(_ name: String) -> String? { headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1 }
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func request(_ method: String, _ url: String, body: String? = nil, headers: [(String, String)] = [],
                        timeout: Double = 10) async throws -> Answer {
        let target = try Target.parse(url)
        let dialer = Dialer(target: target, timeout: timeout, proxy: nil, group: MultiThreadedEventLoopGroup.singleton, tls: nil)
        let (record, value) = await dialer.withConnection { connection -> Answer? in
            var text = "\(method) \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nConnection: close\r\n"
            for (n, v) in headers { text += "\(n): \(v)\r\n" }
            if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
            text += "\r\n" + (body ?? "")
            try await connection.write(text)
            let deadline = ContinuousClock.Instant.after(seconds: timeout)
            var parser = ResponseHeadParser()
            guard case .head(let head, let leftover) = await connection.readResponseHead(until: deadline, parser: &parser) else {
                return nil
            }
            var bytes = leftover
            let length = head.header("Content-Length").flatMap { Int($0) }
            while length.map({ bytes.count < $0 }) ?? true {
                guard case .data(var b) = await connection.read(until: deadline) else { break }
                bytes += b.readBytes(length: b.readableBytes) ?? []
            }
            let chunked = head.headerTokens("Transfer-Encoding").contains { $0.lowercased() == "chunked" }
            let payload = chunked ? ChunkedBody.decode(bytes).bytes : bytes
            return Answer(status: head.status, headers: head.headers, body: String(decoding: payload, as: UTF8.self))
        }
        guard let answer = value ?? nil else { throw Failure(description: "\(method) \(url): no answer (\(record.failedStage?.rawValue ?? "read"))") }
        return answer
    }
}
