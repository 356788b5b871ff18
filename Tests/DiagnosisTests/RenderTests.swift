import Foundation
import Testing

@testable import Diagnosis

/// Reports built by hand, as the rules would build them: one healthy, one failed
/// because a reverse proxy stripped the upgrade headers.
enum RenderFixtures {
    static let request = """
        GET /ws HTTP/1.1\r
        Host: example.com\r
        Upgrade: websocket\r
        Connection: Upgrade\r
        Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
        Sec-WebSocket-Version: 13\r
        \r

        """
    static let response = """
        HTTP/1.1 400 Bad Request\r
        Server: nginx/1.24.0\r
        Content-Type: text/plain\r
        Content-Length: 31\r
        \r

        """

    static var healthy: Report {
        Report(
            tool: .init(name: ToolInfo.name, version: ToolInfo.version),
            target: .init(url: "wss://example.com/ws", host: "example.com", port: 443, secure: true, path: "/ws"),
            startedAt: "2026-11-21T10:00:00Z", durationMs: 812.5, outcome: .healthy,
            cause: Report.Cause(
                id: .healthy, title: "The WebSocket works end to end",
                summary: "The upgrade succeeded and a ping was answered.", confidence: .high, fixes: [],
                evidence: ["101 Switching Protocols in 48.2 ms", "pong after 11.0 ms"]),
            findings: [],
            stages: [
                .init(name: .target, status: .passed, durationMs: 0.04, summary: "wss://example.com:443/ws"),
                .init(name: .resolve, status: .passed, durationMs: 1.94, summary: "93.184.216.34",
                      details: ["ipv4": .strings(["93.184.216.34"]), "ipv6": [], "literal": false]),
                .init(name: .handshake, status: .passed, durationMs: 48.2, summary: "HTTP/1.1 101 Switching Protocols"),
                .init(name: .exchange, status: .passed, durationMs: 11, summary: "pong in 11.0 ms",
                      details: ["pingRoundTripMs": 11.0449]),
                .init(name: .idle, status: .skipped, durationMs: 0, summary: ""),
            ],
            transcript: .init(request: request, response: nil),
            close: Report.Close(code: 1000, reason: "", initiatedBy: "client", clean: true))
    }

    static var stripped: Report {
        Report(
            tool: .init(name: ToolInfo.name, version: ToolInfo.version),
            target: .init(url: "wss://example.com/ws", host: "example.com", port: 443, secure: true, path: "/ws"),
            startedAt: "2026-11-21T10:00:00Z", durationMs: 231.25, outcome: .failed,
            cause: Report.Cause(
                id: .upgradeHeadersStripped,
                title: "A proxy in front of the server drops the WebSocket upgrade headers",
                summary: "The server answered 400 as it would to a plain GET: the Upgrade and Connection headers "
                    + "did not reach it. Configure the reverse proxy (nginx: proxy_set_header Upgrade) to pass them on.",
                confidence: .high,
                fixes: ["nginx: add `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
                    + "proxy_set_header Connection \"upgrade\";` to the location block",
                        "check every proxy in the path, including the CDN and the load balancer"],
                evidence: ["upgrade answered HTTP/1.1 400 Bad Request (Server: nginx/1.24.0)",
                           "a plain GET of /ws also answers 400"],
                data: ["status": 400, "server": "nginx/1.24.0"]),
            findings: [
                Report.Finding(id: "slow-handshake", severity: .warning, stage: .handshake,
                               message: "the handshake took 180.0 ms", data: ["durationMs": 180.04]),
                Report.Finding(id: "server-fingerprint", severity: .info, stage: .handshake,
                               message: "Server: nginx/1.24.0 | via none"),
            ],
            stages: [
                .init(name: .target, status: .passed, durationMs: 0.1, summary: "wss://example.com:443/ws"),
                .init(name: .resolve, status: .passed, durationMs: 2.3, summary: "93.184.216.34"),
                .init(name: .connect, status: .passed, durationMs: 20.7, summary: "93.184.216.34:443"),
                .init(name: .tls, status: .passed, durationMs: 25.0, summary: "TLS 1.3, certificate valid until 2027-01-01"),
                .init(name: .handshake, status: .failed, durationMs: 180.04,
                      summary: "HTTP/1.1 400 Bad Request | Server: nginx/1.24.0",
                      details: ["status": 400, "reason": "Bad Request", "server": "nginx/1.24.0",
                                "durationMs": 180.04, "afterMs": 1234.5678, "seconds": 60.0]),
                .init(name: .exchange, status: .skipped, durationMs: 0, summary: ""),
                .init(name: .close, status: .skipped, durationMs: 0, summary: ""),
            ],
            transcript: .init(request: request, response: response),
            close: Report.Close(code: nil, reason: "", initiatedBy: "none", clean: false))
    }
}

/// Object keys in a canonical order: `JSONDecoder` does not keep the order of keys it
/// reads, so a decoded report compares equal only after both sides are sorted.
private func sortedKeys(_ value: JSONValue) -> JSONValue {
    switch value {
    case .object(let pairs): .object(pairs.map { ($0.0, sortedKeys($0.1)) }.sorted { $0.0 < $1.0 })
    case .array(let items): .array(items.map(sortedKeys))
    default: value
    }
}

private func canonical(_ report: Report) -> Report {
    var r = report
    r.cause.data = sortedKeys(r.cause.data)
    r.findings = r.findings.map { var f = $0; f.data = sortedKeys(f.data); return f }
    r.stages = r.stages.map { var s = $0; s.details = sortedKeys(s.details); return s }
    return r
}

private func parse(_ text: String) throws -> [String: Any] {
    let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
    return try #require(object as? [String: Any])
}

/// Positions of `"key":` at one indentation level, in document order.
private func keyOrder(_ text: String, indent: Int) -> [String] {
    let prefix = String(repeating: " ", count: indent) + "\""
    return text.split(separator: "\n").compactMap { line in
        guard line.hasPrefix(prefix), !line.hasPrefix(prefix + " ") else { return nil }
        let rest = line.dropFirst(prefix.count)
        guard let end = rest.range(of: "\": ") else { return nil }
        return String(rest[..<end.lowerBound])
    }
}

@Suite("JSON report")
struct JSONRenderTests {
    @Test("round-trips through JSONDecoder into an equal Report", arguments: [RenderFixtures.healthy, RenderFixtures.stripped])
    func roundTrip(report: Report) throws {
        let text = JSONReportRenderer.render(report)
        let decoded = try JSONDecoder().decode(Report.self, from: Data(text.utf8))
        var expected = report
        // The writer rounds milliseconds to 0.1; compare with that applied.
        expected.durationMs = (expected.durationMs * 10).rounded() / 10
        expected.cause.data = JSONReportRenderer.roundingMilliseconds(expected.cause.data)
        expected.findings = expected.findings.map { var f = $0; f.data = JSONReportRenderer.roundingMilliseconds(f.data); return f }
        expected.stages = expected.stages.map { var s = $0; s.details = JSONReportRenderer.roundingMilliseconds(s.details); return s }
        #expect(canonical(decoded) == canonical(expected))
    }

    @Test("keys follow the spec's order and the output is the same every run")
    func keyOrderAndStability() {
        let text = JSONReportRenderer.render(RenderFixtures.stripped)
        #expect(keyOrder(text, indent: 2) == [
            "schema", "tool", "target", "startedAt", "durationMs", "outcome", "cause", "findings", "stages",
            "transcript", "close",
        ])
        #expect(keyOrder(text, indent: 4) == [
            "name", "version",
            "url", "host", "port", "secure", "path",
            "id", "title", "summary", "confidence", "fixes", "evidence", "data",
            "request", "response",
            "code", "reason", "initiatedBy", "clean",
        ])
        // At depth 6: the cause's data keys, then the first finding's keys.
        #expect(keyOrder(text, indent: 6)[2..<7] == ["id", "severity", "stage", "message", "data"])
        for _ in 0..<5 { #expect(JSONReportRenderer.render(RenderFixtures.stripped) == text) }
    }

    @Test("valid JSON with the required fields, integers without .0, slashes unescaped")
    func fieldsAndNumbers() throws {
        let text = JSONReportRenderer.render(RenderFixtures.stripped)
        let json = try parse(text)
        #expect(json["schema"] as? String == "wsdoctor.report/v1")
        #expect(json["outcome"] as? String == "failed")
        let cause = try #require(json["cause"] as? [String: Any])
        #expect(cause["id"] as? String == "upgrade-headers-stripped")
        #expect((cause["data"] as? [String: Any])?["status"] as? Int == 400)
        #expect((json["stages"] as? [Any])?.count == 7)
        #expect(text.hasPrefix("{\n  \"schema\": \"wsdoctor.report/v1\",\n  \"tool\": {\n    \"name\": \"wsdoctor\""))
        #expect(text.contains("\"port\": 443,"))
        #expect(text.contains("\"status\": 400,"))
        #expect(text.contains("\"durationMs\": 231.3,") || text.contains("\"durationMs\": 231.2,"))
        #expect(text.contains("\"durationMs\": 180,"))  // stage: 180.04 rounds to 180.0, printed as an integer
        #expect(text.contains("\"afterMs\": 1234.6,"))
        #expect(text.contains("\"seconds\": 60\n"))
        #expect(text.contains("\"url\": \"wss://example.com/ws\""))
        #expect(!text.contains("\\/"))
        #expect(!text.contains(".0,") && !text.contains(".0\n"))
    }

    @Test("absent values are null, so the shape never changes")
    func nullsKeepShape() throws {
        let text = JSONReportRenderer.render(RenderFixtures.healthy)
        let json = try parse(text)
        #expect((json["transcript"] as? [String: Any])?["response"] is NSNull)
        let stripped = try parse(JSONReportRenderer.render(RenderFixtures.stripped))
        #expect((stripped["close"] as? [String: Any])?["code"] is NSNull)
    }

    @Test("control characters and quotes are escaped; parsing gives the string back")
    func escaping() throws {
        var report = RenderFixtures.healthy
        report.close.reason = "bye \"now\"\u{1B}[31m\t\\ \u{01} / é"
        let text = JSONReportRenderer.render(report)
        #expect(text.contains("\\u001b[31m"))
        let close = try #require(try parse(text)["close"] as? [String: Any])
        #expect(close["reason"] as? String == report.close.reason)
    }

    @Test("writer: numbers")
    func numbers() {
        #expect(OrderedJSONWriter.number(443) == "443")
        #expect(OrderedJSONWriter.number(-0.0) == "0")
        #expect(OrderedJSONWriter.number(812.5) == "812.5")
        #expect(OrderedJSONWriter.number(.nan) == "null")
        #expect(OrderedJSONWriter.write(.object([])) == "{}")
        #expect(OrderedJSONWriter.write(.array([])) == "[]")
    }
}

@Suite("Markdown report")
struct MarkdownRenderTests {
    @Test("heading, stage table, cause, fenced transcript, version and timestamp")
    func structure() {
        let md = MarkdownReportRenderer.render(RenderFixtures.stripped)
        #expect(md.hasPrefix("## wsdoctor diagnosis: A proxy in front of the server drops the WebSocket upgrade headers\n"))
        #expect(md.contains("| stage | status | time | summary |\n|---|---|---:|---|\n"))
        #expect(md.contains("| handshake | ✗ failed | 180.0 ms | HTTP/1.1 400 Bad Request \\| Server: nginx/1.24.0 |"))
        #expect(md.contains("| exchange | – skipped | – |"))
        #expect(md.contains("`upgrade-headers-stripped`"))
        #expect(md.contains("### Evidence\n\n- upgrade answered HTTP/1.1 400 Bad Request"))
        #expect(md.contains("### How to fix\n\n1. nginx: add `proxy_http_version 1.1; proxy_set_header Upgrade"))
        #expect(md.contains("2. check every proxy"))
        #expect(md.contains("```http\nGET /ws HTTP/1.1\nHost: example.com\n"))
        #expect(md.contains("```http\nHTTP/1.1 400 Bad Request\nServer: nginx/1.24.0\n"))
        #expect(!md.contains("\r"))
        #expect(md.contains("wsdoctor 0.1.0"))
        #expect(md.contains("2026-11-21T10:00:00Z"))
        #expect(md.contains("**warning** (handshake) `slow-handshake`"))
        // Every table row has exactly five unescaped pipes.
        for row in md.split(separator: "\n") where row.hasPrefix("| ") {
            let unescaped = row.replacingOccurrences(of: "\\|", with: "").filter { $0 == "|" }.count
            #expect(unescaped == 5, "\(row)")
        }
    }

    @Test("a transcript containing backticks cannot close its fence")
    func fenceLength() {
        var report = RenderFixtures.stripped
        report.transcript.response = "HTTP/1.1 400 Bad Request\r\n\r\n```\n````\nnot markdown"
        let md = MarkdownReportRenderer.render(report)
        #expect(md.contains("`````http\nHTTP/1.1 400 Bad Request\n\n```\n````\nnot markdown\n`````\n"))
        #expect(MarkdownReportRenderer.code("a`b") == "``a`b``")
        #expect(MarkdownReportRenderer.code("`x") == "`` `x ``")
    }

    @Test("markdown and HTML in server text are escaped")
    func inlineEscaping() {
        #expect(MarkdownReportRenderer.inline("<script>*x*</script> [a](b)") == "\\<script\\>\\*x\\*\\</script\\> \\[a\\](b)")
        #expect(MarkdownReportRenderer.cell("a|b\nc") == "a\\|b c")
        // Complete code spans are literal in Markdown, so they are kept; a lone backtick is escaped.
        #expect(MarkdownReportRenderer.inline("set `proxy_read_timeout 3600s;` and `<b>` ok") == "set `proxy_read_timeout 3600s;` and `<b>` ok")
        #expect(MarkdownReportRenderer.inline("a ` b_c") == "a \\` b\\_c")
        #expect(MarkdownReportRenderer.cell("x `a|b` y") == "x `a\\|b` y")
    }
}

@Suite("Text report")
struct TextRenderTests {
    @Test("no ANSI escapes without colour; header, stages, cause, fixes, close")
    func plain() {
        let text = TextReportRenderer(color: false).render(RenderFixtures.stripped)
        #expect(!text.contains("\u{1B}"))
        #expect(text.hasPrefix("wsdoctor · wss://example.com/ws · failed\n"))
        #expect(text.contains("✗ handshake  HTTP/1.1 400 Bad Request | Server: nginx/1.24.0"))
        #expect(text.contains("✓ resolve    93.184.216.34"))
        #expect(text.contains("– exchange   skipped"))
        #expect(text.contains("✗ A proxy in front of the server drops the WebSocket upgrade headers"))
        #expect(text.contains("  Evidence:\n    • upgrade answered HTTP/1.1 400 Bad Request"))
        #expect(text.contains("  How to fix:\n    1. nginx: add"))
        #expect(text.contains("    2. check every proxy"))
        #expect(text.contains("Findings:\n  ! handshake: the handshake took 180.0 ms\n  i handshake: Server:"))
        #expect(text.contains("Close: none"))
        // Transcripts are for JSON and Markdown, not the terminal.
        #expect(!text.contains("Sec-WebSocket-Key"))
    }

    @Test("colour when asked: green passed, red failed, dim skipped, bold title")
    func colored() {
        let text = TextReportRenderer(color: true).render(RenderFixtures.stripped)
        #expect(text.contains("\u{1B}[32m✓\u{1B}[0m resolve"))
        #expect(text.contains("\u{1B}[31m✗\u{1B}[0m handshake"))
        #expect(text.contains("\u{1B}[2m  – exchange   skipped\u{1B}[0m"))
        #expect(text.contains("\u{1B}[1mA proxy in front"))
        #expect(TextReportRenderer(color: true).render(RenderFixtures.healthy).contains("\u{1B}[32mhealthy\u{1B}[0m"))
    }

    @Test("timings are right-aligned and prose is wrapped to the width", arguments: [60, 100])
    func layout(width: Int) {
        let text = TextReportRenderer(color: false, width: width).render(RenderFixtures.stripped)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        for line in lines where !line.contains("https://") {
            #expect(line.count <= width, "\(line)")
        }
        let timed = lines.filter { $0.hasSuffix(" ms") && ($0.hasPrefix("  ✓") || $0.hasPrefix("  ✗")) }
        #expect(timed.count == 5)
        #expect(Set(timed.map(\.count)).count == 1, "timings end in one column")
    }

    @Test("terminal control sequences from the network are not passed through")
    func sanitizes() {
        var report = RenderFixtures.stripped
        report.close = Report.Close(code: 4000, reason: "\u{1B}]0;pwned\u{07}bye", initiatedBy: "server", clean: true)
        let text = TextReportRenderer(color: false).render(report)
        #expect(!text.contains("\u{1B}"))
        #expect(text.contains("Close: code 4000, reason \"�]0;pwned�bye\", initiated by server, clean"))
    }

    @Test("durations read as ms below a second, s above")
    func durations() {
        #expect(TextReportRenderer.duration(12.34) == "12.3 ms")
        #expect(TextReportRenderer.duration(60000) == "60.00 s")
    }
}
