import Diagnosis
import NIOCore

/// Plain HTTP GETs over the probe's own dialer (same proxy, same TLS settings as the
/// WebSocket), bounded in time and size: health checks, discovery, fallback checks.
enum HTTPGetter {
    struct Options: Sendable {
        var headers: [(String, String)] = []
        var maxBody = 64 * 1024
        /// For streams (SSE): stop once this many body bytes or the first blank line arrived.
        var stopAtFirstEvent = false
    }

    static func get(_ dialer: Dialer, path: String, url: String, options: Options = .init())
        async -> (check: HTTPCheck, record: DialRecord)
    {
        let timeout = dialer.timeout
        let target = dialer.target
        let started = ContinuousClock.now
        let (record, value) = await dialer.withConnection { connection -> HTTPCheck in
            var check = HTTPCheck(url: url)
            var request = "GET \(path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\nUser-Agent: wsdoctor/\(ToolInfo.version)\r\n"
            if !options.stopAtFirstEvent { request += "Connection: close\r\n" }
            for (name, value) in options.headers { request += "\(name): \(value)\r\n" }
            request += "\r\n"
            try await connection.write(request)
            let deadline = ContinuousClock.Instant.after(seconds: timeout)
            var parser = ResponseHeadParser()
            switch await connection.readResponseHead(until: deadline, parser: &parser) {
            case .failed(let failure, let printable):
                check.failure = Self.describe(failure, printable: printable)
                return check
            case .head(let head, let leftover):
                check.response = head
                let body = await readBody(connection, head: head, leftover: leftover, deadline: deadline, options: options)
                check.bodySnippet = String(decoding: body.bytes.prefix(options.maxBody), as: UTF8.self)
                if let failure = body.failure { check.failure = failure }
                return check
            }
        }
        var check = value ?? HTTPCheck(url: url)
        if value == nil, check.failure == nil {
            check.failure = record.failedStage.map { "could not connect (\($0.rawValue) failed)" } ?? "connection failed"
        }
        check.durationMs = started.elapsedMs
        return (check, record)
    }

    static func describe(_ failure: HandshakeEvidence.Failure, printable: String) -> String {
        switch failure {
        case .timeout(let n): n == 0 ? "no answer before the timeout" : "incomplete answer (\(n) bytes) before the timeout"
        case .closed(let n): "connection closed after \(n) bytes, before a complete HTTP answer"
        case .reset(let n): "connection reset after \(n) bytes"
        case .notHTTP: "the answer is not HTTP: \(printable)"
        case .tlsAnswer: "the port answered with TLS"
        case .headTooLarge(let n): "the response head exceeded \(n) bytes"
        }
    }

    /// Reads a body by Content-Length, chunked encoding or until close — never past `maxBody`.
    private static func readBody(_ connection: Connection, head: ResponseHead, leftover: [UInt8],
                                 deadline: ContinuousClock.Instant, options: Options) async -> (bytes: [UInt8], failure: String?) {
        var bytes = leftover
        // A negative or non-numeric Content-Length is ignored (read until close, still bounded).
        let length = head.header("Content-Length").flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
            .flatMap { $0 >= 0 ? $0 : nil }
        let chunked = head.headerTokens("Transfer-Encoding").contains { $0.lowercased() == "chunked" }
        if head.status == 204 || head.status == 304 || head.status / 100 == 1 { return ([], nil) }
        func complete() -> Bool {
            if bytes.count >= options.maxBody { return true }
            if options.stopAtFirstEvent {
                let text = String(decoding: chunked ? ChunkedBody.decode(bytes).bytes : bytes, as: UTF8.self)
                return text.contains("\n\n") || text.contains("\r\n\r\n")
            }
            if let length { return bytes.count >= length }
            if chunked { return ChunkedBody.decode(bytes).complete }
            return false
        }
        while !complete() {
            switch await connection.read(until: deadline) {
            case .data(var buffer): bytes += buffer.readBytes(length: buffer.readableBytes) ?? []
            case .ended:
                if length == nil && !chunked && !options.stopAtFirstEvent { return (bytes, nil) }
                return (chunked ? ChunkedBody.decode(bytes).bytes : bytes, complete() ? nil : "the body ended early")
            case .timeout:
                return (chunked ? ChunkedBody.decode(bytes).bytes : bytes, "the body did not arrive before the timeout")
            }
        }
        return (chunked ? ChunkedBody.decode(bytes).bytes : Array(bytes.prefix(length ?? bytes.count)), nil)
    }
}

/// Decodes `Transfer-Encoding: chunked` as far as the bytes go. Pure.
enum ChunkedBody {
    static func decode(_ raw: [UInt8]) -> (bytes: [UInt8], complete: Bool) {
        var out: [UInt8] = []
        var i = 0
        while i < raw.count {
            guard let lineEnd = raw[i...].firstIndex(of: 0x0A) else { return (out, false) }
            let sizeText = String(decoding: raw[i..<lineEnd], as: UTF8.self)
                .split(separator: ";").first?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            // A hostile size (up to Int.max) must not overflow the arithmetic below.
            guard sizeText.count <= 8, let size = Int(sizeText, radix: 16), size >= 0 else { return (out, false) }
            if size == 0 { return (out, true) }
            let start = lineEnd + 1
            guard size <= raw.count - start else {
                out += raw[start...]
                return (out, false)
            }
            out += raw[start..<start + size]
            i = start + size
            while i < raw.count, raw[i] == 0x0D || raw[i] == 0x0A { i += 1 }
        }
        return (out, false)
    }
}

import Foundation
