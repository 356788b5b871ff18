import Testing
@testable import RealtimeCore

/// The handshake log's rules with plain values: TTL, per-nonce limit, bounded totals.
@Suite("Handshake log book")
struct HandshakeLogBookTests {
    @Test func entriesComeBackOldestFirstPerKey() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20)
        book.record(1, key: "a", now: 0)
        book.record(2, key: "b", now: 1)
        book.record(3, key: "a", now: 2)
        #expect(book.entries(key: "a", now: 3) == [1, 3])
        #expect(book.entries(key: "b", now: 3) == [2])
        #expect(book.entries(key: "unknown", now: 3) == [])
    }

    @Test func entriesExpireAfterTheTTL() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20)
        book.record(1, key: "a", now: 0)
        book.record(2, key: "a", now: 300)
        #expect(book.entries(key: "a", now: 599.9) == [1, 2])
        #expect(book.entries(key: "a", now: 600) == [2])
        #expect(book.entries(key: "a", now: 900) == [])
        // A later write sweeps keys whose every entry expired.
        book.record(3, key: "b", now: 901)
        #expect(book.keyCount == 1)
        #expect(book.entryCount == 1)
    }

    @Test func atMostPerKeyEntriesTheNewestKept() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20)
        for i in 0..<25 { book.record(i, key: "a", now: Double(i)) }
        #expect(book.entries(key: "a", now: 30) == Array(5..<25))
        #expect(book.entryCount == 20)
    }

    @Test func theKeyWrittenLongestAgoIsEvictedFirst() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20, maxKeys: 3)
        book.record(1, key: "a", now: 0)
        book.record(2, key: "b", now: 1)
        book.record(3, key: "c", now: 2)
        book.record(4, key: "a", now: 3)  // "a" is now the most recent
        book.record(5, key: "d", now: 4)  // evicts "b"
        #expect(book.keyCount == 3)
        #expect(book.entries(key: "b", now: 5) == [])
        #expect(book.entries(key: "a", now: 5) == [1, 4])
        #expect(book.entries(key: "c", now: 5) == [3])
        #expect(book.entries(key: "d", now: 5) == [5])
    }

    @Test func totalEntriesAreBounded() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20, maxKeys: 1000, maxEntries: 50)
        for k in 0..<10 {
            for i in 0..<10 { book.record(k * 10 + i, key: "k\(k)", now: Double(k)) }
        }
        #expect(book.entryCount <= 50)
        #expect(book.entries(key: "k9", now: 10) == Array(90..<100))
        #expect(book.entries(key: "k0", now: 10) == [])
    }

    @Test func manyWritesToOneKeyStayBounded() {
        var book = HandshakeLogBook<Int>(ttl: 600, perKey: 20, maxKeys: 10)
        for i in 0..<100_000 { book.record(i, key: "same", now: Double(i) / 1000) }
        #expect(book.keyCount == 1)
        #expect(book.entries(key: "same", now: 100).count == 20)
        // Many keys after that: the oldest are evicted, the queue does not grow without bound.
        for i in 0..<10_000 { book.record(i, key: "k\(i)", now: 101) }
        #expect(book.keyCount == 10)
        #expect(book.entries(key: "k9999", now: 101) == [9999])
        #expect(book.entries(key: "same", now: 101) == [])
    }
}

@Suite("Upgrade request targets and raw answers")
struct UpgradeTargetTests {
    @Test func endpointsIgnoreTheQuery() {
        #expect(UpgradeTarget(requestTarget: "/ws").endpoint == .realtime)
        #expect(UpgradeTarget(requestTarget: "/ws?probe=abc").endpoint == .realtime)
        #expect(UpgradeTarget(requestTarget: "/echo?x=1").endpoint == .echo)
        #expect(UpgradeTarget(requestTarget: "/ws/").endpoint == nil)
        #expect(UpgradeTarget(requestTarget: "/other").endpoint == nil)
        #expect(UpgradeTarget(requestTarget: "/echo?x=1").path == "/echo")
    }

    @Test func probeNonceOnlyWhenValid() {
        #expect(UpgradeTarget(requestTarget: "/ws?probe=wsd-abcdefghij0123456789").probe == "wsd-abcdefghij0123456789")
        #expect(UpgradeTarget(requestTarget: "/ws?a=1&probe=ABCDEFGHIJKLMNOP_-").probe == "ABCDEFGHIJKLMNOP_-")
        #expect(UpgradeTarget(requestTarget: "/ws?probe=short").probe == nil)
        #expect(UpgradeTarget(requestTarget: "/ws?probe=has%20space-and-more-chars").probe == nil)
        #expect(UpgradeTarget(requestTarget: "/ws?probe=" + String(repeating: "a", count: 65)).probe == nil)
        #expect(UpgradeTarget(requestTarget: "/ws").probe == nil)
    }

    @Test func tokenIsPercentDecoded() {
        #expect(UpgradeTarget(requestTarget: "/ws?token=a%2Fb%3D").token == "a/b=")
        #expect(UpgradeTarget(requestTarget: "/ws?x=1").token == nil)
    }

    @Test func rawResponsesAreCompleteAndCannotBeInjected() {
        let r = RawHTTPResponse.jsonError(status: 503, error: "over-capacity", message: "full",
                                          headers: [.init("Retry-After", "5\r\nX-Evil: 1")])
        let text = r.text
        #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"))
        #expect(text.contains("Retry-After: 5X-Evil: 1\r\n"))
        #expect(text.contains("Content-Length: \(r.body.utf8.count)\r\n"))
        #expect(text.contains("Connection: close\r\n\r\n"))
        #expect(text.hasSuffix(#"{"error":"over-capacity","message":"full"}"#))
    }

    @Test func simulatedAnswersLookLikeTheSoftwareTheyImitate() {
        let stripped = SimulatedUpgradeAnswer.stripped(server: "x").text
        #expect(stripped.hasPrefix("HTTP/1.1 400 Bad Request\r\n"))
        #expect(stripped.contains("'upgrade' token not found in 'Connection' header"))
        let swallowed = SimulatedUpgradeAnswer.swallowed(server: "x").text
        #expect(swallowed.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(swallowed.contains("Content-Type: text/html"))
    }
}
