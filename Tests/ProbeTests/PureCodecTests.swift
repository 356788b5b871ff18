import Diagnosis
import Foundation
import NIOCore
import NIOWebSocket
import Testing

@testable import Probe

/// The probe's pure pieces, bytes in and verdicts out: the response head parser, chunked
/// bodies, RFC 6455 frame rules and the opening handshake request.
@Suite("Response head parser")
struct ResponseHeadParserTests {
    struct NotAHead: Error {}

    static func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    static func requireHead(_ verdict: ResponseHeadParser.Verdict, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> (head: ResponseHead, leftover: [UInt8])
    {
        guard case .head(let head, let leftover) = verdict else {
            Issue.record("expected a complete head, got \(verdict)", sourceLocation: sourceLocation)
            throw NotAHead()
        }
        return (head, leftover)
    }

    @Test("a complete head: status, reason, headers, raw text, and the bytes after it")
    func completeHead() throws {
        let text = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nLocation: http://x/y\r\n\r\n"
        var parser = ResponseHeadParser()
        let (head, leftover) = try Self.requireHead(parser.feed(Self.bytes(text) + [0x81, 0x02, 0x68, 0x69]))
        #expect(head.version == "HTTP/1.1")
        #expect(head.status == 101)
        #expect(head.reason == "Switching Protocols")
        #expect(head.header("upgrade") == "websocket")
        #expect(head.header("SEC-WEBSOCKET-ACCEPT") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(head.header("Location") == "http://x/y", "only the first colon separates name and value")
        #expect(head.headers.count == 4)
        #expect(head.raw == text)
        #expect(leftover == [0x81, 0x02, 0x68, 0x69], "frames right after the head are not lost")
    }

    @Test("a head split across many feeds: more is needed until the blank line arrives")
    func splitAcrossFeeds() throws {
        let text = Self.bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n")
        var parser = ResponseHeadParser()
        for byte in text.dropLast() {
            #expect(parser.feed([byte]) == .needMore)
        }
        let (head, leftover) = try Self.requireHead(parser.feed([text.last!]))
        #expect(head.status == 200)
        #expect(head.header("Content-Length") == "2")
        #expect(leftover.isEmpty)
        #expect(parser.received == text.count)
    }

    @Test("bare \\n line ends are tolerated")
    func bareNewlines() throws {
        var parser = ResponseHeadParser()
        let (head, leftover) = try Self.requireHead(parser.feed(Self.bytes("HTTP/1.0 404 Not Found\nServer: x\n\nbody")))
        #expect(head.version == "HTTP/1.0")
        #expect(head.status == 404)
        #expect(head.reason == "Not Found")
        #expect(head.header("Server") == "x")
        #expect(leftover == Self.bytes("body"))
    }

    @Test("a status line without a reason phrase")
    func noReason() throws {
        var parser = ResponseHeadParser()
        let (head, _) = try Self.requireHead(parser.feed(Self.bytes("HTTP/1.1 204\r\n\r\n")))
        #expect(head.status == 204)
        #expect(head.reason == "")
    }

    @Test("an SSH banner is not-HTTP from its first byte, without waiting for more")
    func sshBanner() {
        var early = ResponseHeadParser()
        #expect(early.feed(Self.bytes("S")) == .notHTTP("S"))
        var full = ResponseHeadParser()
        #expect(full.feed(Self.bytes("SSH-2.0-OpenSSH_9.6\r\n")) == .notHTTP("SSH-2.0-OpenSSH_9.6\\r\\n"))
    }

    @Test("a prefix of HTTP/ is not judged early")
    func httpPrefix() {
        var parser = ResponseHeadParser()
        #expect(parser.feed(Self.bytes("HTT")) == .needMore)
        #expect(parser.feed(Self.bytes("X")) == .notHTTP("HTTX"))
    }

    @Test("other banners and binary are not-HTTP, shown printable",
          arguments: [("220 mail.example.com ESMTP\r\n", "220 mail.example.com ESMTP\\r\\n"), ("\u{1}\u{2}\t", "\\x01\\x02\\t")])
    func otherBanners(raw: String, printable: String) {
        var parser = ResponseHeadParser()
        #expect(parser.feed(Self.bytes(raw)) == .notHTTP(printable))
    }

    @Test("a TLS record (handshake or alert) is recognised at the first bytes",
          arguments: [[0x16, 0x03, 0x01, 0x00, 0xA5], [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28], [0x16]] as [[UInt8]])
    func tlsRecord(raw: [UInt8]) {
        var parser = ResponseHeadParser()
        #expect(parser.feed(raw) == .tlsRecord)
    }

    @Test("0x16 not followed by a TLS version is not a TLS record")
    func notTLS() {
        var parser = ResponseHeadParser()
        #expect(parser.feed([0x16, 0x41]) == .notHTTP("\\x16A"))
    }

    @Test("a head that never ends is too large once past the limit")
    func endlessHead() {
        var parser = ResponseHeadParser(maxHeadBytes: 256)
        var verdict = parser.feed(Self.bytes("HTTP/1.1 200 OK\r\n"))
        var fed = 17
        while verdict == .needMore, fed < 10_000 {
            verdict = parser.feed(Self.bytes("X-Pad: aaaaaaaa\r\n"))
            fed += 17
        }
        guard case .tooLarge(let n) = verdict else {
            Issue.record("expected tooLarge, got \(verdict)")
            return
        }
        #expect(n > 256)
        #expect(fed < 256 + 17 * 2, "judged as soon as the limit is passed")
    }

    @Test("a complete head over the limit, or with too many lines, is too large")
    func completeButTooLarge() {
        var big = ResponseHeadParser(maxHeadBytes: 64)
        let text = "HTTP/1.1 200 OK\r\nX-Pad: " + String(repeating: "a", count: 100) + "\r\n\r\n"
        #expect(big.feed(Self.bytes(text)) == .tooLarge(text.utf8.count))
        var many = ResponseHeadParser(maxHeaderLines: 3)
        let lines = "HTTP/1.1 200 OK\r\n" + (1...4).map { "X-\($0): v\r\n" }.joined() + "\r\n"
        guard case .tooLarge = many.feed(Self.bytes(lines)) else {
            Issue.record("four header lines should exceed a limit of three")
            return
        }
    }

    @Test("a garbage status line is not-HTTP",
          arguments: ["HTTP/1.1 abc OK", "HTTP/2 200 OK", "HTTP/1.1 99 Low", "HTTP/1.1 600 High", "HTTP/1.1", "HTTP/1.1 2000 X",
                      "HTTP/x 200 OK"])
    func garbageStatusLine(line: String) {
        var parser = ResponseHeadParser()
        guard case .notHTTP = parser.feed(Self.bytes(line + "\r\nServer: x\r\n\r\n")) else {
            Issue.record("'\(line)' was accepted as a status line")
            return
        }
    }

    @Test("folded continuation lines and lines without a name are ignored")
    func invalidLinesIgnored() throws {
        let text = "HTTP/1.1 200 OK\r\nServer: nginx\r\n folded continuation\r\nno colon here\r\n: no name\r\nX-Empty:\r\n\r\n"
        var parser = ResponseHeadParser()
        let (head, _) = try Self.requireHead(parser.feed(Self.bytes(text)))
        #expect(head.headers.map(\.0) == ["Server", "X-Empty"])
        #expect(head.headers.map(\.1) == ["nginx", ""])
    }
}

@Suite("Chunked body")
struct ChunkedBodyTests {
    static func decode(_ s: String) -> (text: String, complete: Bool) {
        let r = ChunkedBody.decode(Array(s.utf8))
        return (String(decoding: r.bytes, as: UTF8.self), r.complete)
    }

    @Test("complete: chunks joined, the last chunk ends it")
    func complete() {
        let r = Self.decode("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        #expect(r.text == "hello world")
        #expect(r.complete)
    }

    @Test("hex sizes")
    func hex() {
        let r = Self.decode("A\r\n0123456789\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n")
        #expect(r.text == "0123456789abcdefghijklmnopqrstuvwxyz")
        #expect(r.complete)
    }

    @Test("partial: what arrived so far, not complete",
          arguments: [("5\r\nhel", "hel"), ("5\r\nhello\r\n", "hello"), ("5\r\nhello\r\n3", "hello"), ("", "")]
              as [(String, String)])
    func partial(raw: String, text: String) {
        let r = Self.decode(raw)
        #expect(r.text == text)
        #expect(!r.complete)
    }

    @Test("chunk extensions are ignored")
    func extensions() {
        let r = Self.decode("5;name=value\r\nhello\r\n0;last\r\n\r\n")
        #expect(r.text == "hello")
        #expect(r.complete)
    }

    /// A hostile server can announce any chunk size; sizes near `Int.max` once overflowed
    /// `start + size` and trapped, killing the probe (health, discovery and fallback checks
    /// all decode chunked bodies).
    @Test("a chunk size near Int.max is refused as incomplete, not a crash")
    func hugeChunkSize() {
        let r = ChunkedBody.decode(Array("7fffffffffffffff\r\nabc".utf8))
        #expect(!r.complete)
        #expect(r.bytes.isEmpty)
        let big = ChunkedBody.decode(Array("ffffffff\r\nabc".utf8))
        #expect(!big.complete)
        #expect(big.bytes == Array("abc".utf8))
    }

    @Test("a size that is not hex stops decoding, incomplete")
    func garbage() {
        let r = Self.decode("5\r\nhello\r\nzz\r\nmore\r\n0\r\n\r\n")
        #expect(r.text == "hello")
        #expect(!r.complete)
    }
}

@Suite("Frame rules")
struct FrameRulesTests {
    static func frame(_ opcode: WebSocketOpcode, _ bytes: [UInt8] = [], fin: Bool = true, rsv1: Bool = false,
                      rsv2: Bool = false, rsv3: Bool = false, mask: WebSocketMaskingKey? = nil) -> WebSocketFrame {
        WebSocketFrame(fin: fin, rsv1: rsv1, rsv2: rsv2, rsv3: rsv3, opcode: opcode, maskKey: mask,
                       data: ByteBuffer(bytes: bytes))
    }

    static func text(_ s: String, fin: Bool = true) -> WebSocketFrame { frame(.text, Array(s.utf8), fin: fin) }
    static func close(_ code: UInt16, _ reason: [UInt8] = []) -> WebSocketFrame {
        frame(.connectionClose, [UInt8(code >> 8), UInt8(code & 0xFF)] + reason)
    }

    static func rules(extensions: [String] = [], max: Int = 1 << 20) -> FrameRules {
        FrameRules(negotiatedExtensions: extensions, maxMessageSize: max)
    }

    /// Feeds frames in order; the rule of the first violation, or nil.
    static func violation(_ frames: [WebSocketFrame], extensions: [String] = [], max: Int = 1 << 20) -> String? {
        var r = rules(extensions: extensions, max: max)
        for f in frames {
            do throws(FrameRules.Violation) { _ = try r.accept(f) } catch { return error.rule }
        }
        return nil
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var rule: String
        var frames: [WebSocketFrame]
        var max = 1 << 20
        var testDescription: String { rule }
    }

    static let cases: [Case] = [
        Case(rule: "masked-frame", frames: [frame(.text, Array("hi".utf8), mask: [1, 2, 3, 4])]),
        Case(rule: "reserved-bits", frames: [frame(.text, [0x61], rsv2: true)]),
        Case(rule: "reserved-bits", frames: [frame(.binary, [0x61], rsv3: true)]),
        Case(rule: "reserved-bits", frames: [frame(.text, [0x61], rsv1: true)]),
        Case(rule: "bad-opcode", frames: [frame(WebSocketOpcode(encodedWebSocketOpcode: 0x3)!)]),
        Case(rule: "bad-opcode", frames: [frame(WebSocketOpcode(encodedWebSocketOpcode: 0xB)!)]),
        Case(rule: "fragmented-control-frame", frames: [frame(.ping, [1], fin: false)]),
        Case(rule: "unexpected-continuation", frames: [frame(.continuation, [0x61])]),
        Case(rule: "interleaved-message", frames: [text("a", fin: false), text("b")]),
        Case(rule: "invalid-utf8", frames: [frame(.text, [0xC3, 0x28])]),
        Case(rule: "invalid-utf8", frames: [frame(.text, [0xC3], fin: false), frame(.continuation, [0x28])]),
        Case(rule: "invalid-utf8", frames: [close(1000, [0xFF])]),
        Case(rule: "bad-close-payload", frames: [frame(.connectionClose, [0x03])]),
        Case(rule: "bad-close-code", frames: [close(1005)]),
        Case(rule: "bad-close-code", frames: [close(1006)]),
        Case(rule: "bad-close-code", frames: [close(1015)]),
        Case(rule: "bad-close-code", frames: [close(999)]),
        Case(rule: "bad-close-code", frames: [close(2000)]),
        Case(rule: "bad-close-code", frames: [close(5000)]),
        Case(rule: "message-too-large", frames: [text("12345", fin: false), frame(.continuation, Array("67890".utf8))], max: 8),
    ]

    @Test("each RFC 6455 violation is named by its rule", arguments: cases)
    func violations(c: Case) {
        #expect(Self.violation(c.frames, max: c.max) == c.rule)
    }

    @Test("a fragmented text message is reassembled; control frames may come between fragments")
    func fragmented() throws {
        var r = Self.rules()
        #expect(try r.accept(Self.text("hel", fin: false)) == nil)
        #expect(try r.accept(Self.frame(.ping, [7])) == .ping(ByteBuffer(bytes: [7])))
        #expect(try r.accept(Self.frame(.continuation, Array("l".utf8), fin: false)) == nil)
        #expect(try r.accept(Self.frame(.pong, [])) == .pong(ByteBuffer()))
        #expect(try r.accept(Self.frame(.continuation, Array("o".utf8))) == .text("hello"))
        // The message is finished: a new one may start.
        #expect(try r.accept(Self.text("next")) == .text("next"))
    }

    @Test("UTF-8 split across fragments is judged on the whole message")
    func utf8AcrossFragments() throws {
        var r = Self.rules()
        #expect(try r.accept(Self.frame(.text, [0xC3], fin: false)) == nil)
        #expect(try r.accept(Self.frame(.continuation, [0xA9])) == .text("é"))
    }

    @Test("binary messages are counted, not decoded")
    func binary() throws {
        var r = Self.rules()
        #expect(try r.accept(Self.frame(.binary, [0xFF, 0x00, 0xC3])) == .binary(3))
    }

    @Test("RSV1 is allowed once permessage-deflate was negotiated")
    func rsv1WithDeflate() {
        let compressed = [Self.frame(.text, [0x61], rsv1: true)]
        #expect(Self.violation(compressed, extensions: ["permessage-deflate; server_no_context_takeover"]) == nil)
        #expect(Self.violation(compressed, extensions: ["x-webkit-deflate-frame"]) == "reserved-bits")
        #expect(Self.violation([Self.frame(.text, [0x61], rsv1: true, rsv2: true)],
                               extensions: ["permessage-deflate"]) == "reserved-bits")
    }

    @Test("close payloads: code and reason, or none at all", arguments: [
        (1000, "bye"), (1001, ""), (1011, "internal"), (1014, ""), (3000, "app"), (4999, "private"),
    ] as [(Int, String)])
    func closePayload(code: Int, reason: String) throws {
        var r = Self.rules()
        #expect(try r.accept(Self.close(UInt16(code), Array(reason.utf8))) == .close(code: code, reason: reason))
    }

    @Test("an empty close payload has no code")
    func emptyClose() throws {
        var r = Self.rules()
        #expect(try r.accept(Self.frame(.connectionClose)) == .close(code: nil, reason: ""))
    }

    @Test("a message exactly at the size cap is accepted")
    func sizeCapBoundary() throws {
        var r = Self.rules(max: 8)
        #expect(try r.accept(Self.text("1234", fin: false)) == nil)
        #expect(try r.accept(Self.frame(.continuation, Array("5678".utf8))) == .text("12345678"))
    }
}

@Suite("Handshake request")
struct HandshakeRequestTests {
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="

    static func lines(_ r: HandshakeRequest) -> [String] {
        Array(r.text.components(separatedBy: "\r\n").dropLast(2))
    }

    @Test("RFC 6455's sample key gives its sample accept")
    func rfcSample() {
        #expect(HandshakeRequest.accept(forKey: Self.key) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        let r = HandshakeRequest(path: "/chat", hostHeader: "server.example.com", origin: nil, subprotocols: [],
                                 extensions: [], extraHeaders: [], key: Self.key)
        #expect(r.expectedAccept == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(r.key == Self.key)
    }

    @Test("the upgrade request carries every header RFC 6455 requires, and ends with a blank line")
    func requiredHeaders() {
        let r = HandshakeRequest(path: "/chat?room=1", hostHeader: "[::1]:9000", origin: "https://app.example.com",
                                 subprotocols: ["chat", "superchat"], extensions: ["permessage-deflate"],
                                 extraHeaders: [("Authorization", "Bearer t")], key: Self.key)
        let lines = Self.lines(r)
        #expect(lines.first == "GET /chat?room=1 HTTP/1.1")
        for line in ["Host: [::1]:9000", "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: \(Self.key)",
                     "Sec-WebSocket-Version: 13", "Origin: https://app.example.com",
                     "Sec-WebSocket-Protocol: chat, superchat", "Sec-WebSocket-Extensions: permessage-deflate",
                     "Authorization: Bearer t"] {
            #expect(lines.contains(line), "missing \(line)")
        }
        #expect(r.text.hasSuffix("\r\n\r\n"))
        #expect(!r.text.dropLast(4).contains("\r\n\r\n"), "one blank line, at the end")
    }

    @Test("upgrade: false is a plain GET: no upgrade headers, even with subprotocols")
    func plainGet() {
        let r = HandshakeRequest(path: "/ws", hostHeader: "example.com", origin: nil, subprotocols: ["chat"],
                                 extensions: ["permessage-deflate"], extraHeaders: [], key: Self.key, upgrade: false)
        #expect(Self.lines(r).first == "GET /ws HTTP/1.1")
        #expect(Self.lines(r).contains("Connection: close"))
        for name in ["Upgrade:", "Connection: Upgrade", "Sec-WebSocket-"] {
            #expect(!r.text.contains(name), "\(name) in a plain GET")
        }
    }

    @Test("User-Agent is added only when the user did not supply one")
    func userAgent() {
        let ours = HandshakeRequest(path: "/", hostHeader: "h", origin: nil, subprotocols: [], extensions: [],
                                    extraHeaders: [], key: Self.key)
        #expect(Self.lines(ours).filter { $0.lowercased().hasPrefix("user-agent:") } == ["User-Agent: wsdoctor/\(ToolInfo.version)"])
        let theirs = HandshakeRequest(path: "/", hostHeader: "h", origin: nil, subprotocols: [], extensions: [],
                                      extraHeaders: [("user-agent", "Mozilla/5.0")], key: Self.key)
        #expect(Self.lines(theirs).filter { $0.lowercased().hasPrefix("user-agent:") } == ["user-agent: Mozilla/5.0"])
    }

    @Test("no Origin header unless one is given")
    func noOrigin() {
        let r = HandshakeRequest(path: "/", hostHeader: "h", origin: nil, subprotocols: [], extensions: [], extraHeaders: [])
        #expect(!r.text.contains("Origin:"))
    }

    @Test("random keys are 16 bytes of base64, different each time, and their accept matches")
    func randomKeys() throws {
        let a = HandshakeRequest.randomKey()
        let b = HandshakeRequest.randomKey()
        #expect(a != b)
        #expect(try #require(Data(base64Encoded: a)).count == 16)
        let r = HandshakeRequest(path: "/", hostHeader: "h", origin: nil, subprotocols: [], extensions: [], extraHeaders: [])
        #expect(r.expectedAccept == HandshakeRequest.accept(forKey: r.key))
        #expect(r.text.contains("Sec-WebSocket-Key: \(r.key)\r\n"))
    }
}
