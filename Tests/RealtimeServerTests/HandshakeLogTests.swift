import Foundation
import Testing
@testable import Probe

/// `/api/handshakes?probe=NONCE`: what the server saw of each upgrade attempt (the
/// TTL and limits are tested as plain values in RealtimeCoreTests).
@Suite("Handshake log", .timeLimit(.minutes(1)))
struct HandshakeLogTests {
    static func log(_ server: RunningServer, _ nonce: String) async throws -> [[String: Any]] {
        let r = try await HTTP.request("GET", server.http + "/api/handshakes?probe=\(nonce)")
        #expect(r.status == 200)
        #expect(r.json?["probe"] as? String == nonce)
        return try #require(r.json?["attempts"] as? [[String: Any]])
    }

    static func nonce() -> String { "test-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased() }

    @Test func anUpgradeIsLoggedAsTheSpecWritesIt() async throws {
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let nonce = Self.nonce()
            let status = try await WSRawClient.open(
                server, path: "/ws?probe=\(nonce)&token=secret-query-token", origin: "https://app.example",
                headers: [("Authorization", "Bearer secret-header-token"), ("Cookie", "session=secret-cookie"),
                          ("Via", "1.1 proxy"), ("X-Forwarded-For", "10.0.0.1")]
            ) { $0.head.status }
            #expect(status == 101)
            let raw = try await HTTP.request("GET", server.http + "/api/handshakes?probe=\(nonce)")
            for secret in ["secret-query-token", "secret-header-token", "secret-cookie"] {
                #expect(!raw.body.contains(secret), "the log leaks \(secret)")
            }
            let attempts = try await Self.log(server, nonce)
            #expect(attempts.count == 1)
            let a = try #require(attempts.first)
            #expect(Set(a.keys) == ["at", "path", "upgrade", "connection", "key", "version", "origin", "via",
                                    "forwardedFor", "outcome", "status"])
            #expect((a["at"] as? String)?.wholeMatch(of: WebSocketProtocolTests.rfc3339ms) != nil)
            #expect(a["path"] as? String == "/ws")
            #expect(a["upgrade"] as? String == "websocket")
            #expect(a["connection"] as? String == "Upgrade")
            #expect(a["key"] as? Bool == true)
            #expect(a["version"] as? String == "13")
            #expect(a["origin"] as? String == "https://app.example")
            #expect(a["via"] as? Bool == true && a["forwardedFor"] as? Bool == true)
            #expect(a["outcome"] as? String == "upgraded" && a["status"] as? Int == 101)
        }
    }

    @Test func rejectedAttemptsAndPlainGetsAreLoggedWithTheirStatus() async throws {
        try await TestServer.with({ $0.limits.maxConnections = 1 }) { server in
            let nonce = Self.nonce()
            // 403: a refused origin.
            _ = try await WSRawClient.open(server, path: "/echo?probe=\(nonce)", origin: "https://evil.example") { $0.head.status }
            // 426: a plain GET (its headers never had Upgrade).
            let plain = try await HTTP.request("GET", server.http + "/ws?probe=\(nonce)")
            #expect(plain.status == 426)
            // 503: over capacity.
            try await WSRawClient.open(server, path: "/ws") { first in
                try await first.welcome()
                let busy = try await WSRawClient.open(server, path: "/ws?probe=\(nonce)") { $0.head.status }
                #expect(busy == 503)
                return true
            }
            let attempts = try await Self.log(server, nonce)
            #expect(attempts.map { $0["status"] as? Int } == [403, 426, 503])
            #expect(attempts.allSatisfy { $0["outcome"] as? String == "rejected" })
            #expect(attempts.map { $0["path"] as? String } == ["/echo", "/ws", "/ws"])
            let get = attempts[1]
            #expect(get["upgrade"] is NSNull && get["key"] as? Bool == false && get["version"] is NSNull)
            #expect(get["origin"] is NSNull && get["via"] as? Bool == false)
            #expect(attempts[0]["origin"] as? String == "https://evil.example")
        }
    }

    @Test func anUpgradeWhoseConnectionHeaderWasDroppedShowsWhatArrived() async throws {
        try await TestServer.with { server in
            let nonce = Self.nonce()
            let request = "GET /ws?probe=\(nonce) HTTP/1.1\r\nHost: 127.0.0.1:\(server.port)\r\nUpgrade: websocket\r\n"
                + "Sec-WebSocket-Key: \(HandshakeRequest.randomKey())\r\nSec-WebSocket-Version: 13\r\n\r\n"
            let status = try await WSRawClient.open(server, path: "/ws", rawRequest: request) { $0.head.status }
            #expect(status == 426)
            let a = try #require(try await Self.log(server, nonce).first)
            #expect(a["upgrade"] as? String == "websocket")
            #expect(a["connection"] is NSNull)
            #expect(a["key"] as? Bool == true && a["status"] as? Int == 426)
        }
    }

    @Test func attemptsWithoutANonceAreNotLoggedAndTheLimitPerNonceHolds() async throws {
        try await TestServer.with({ $0.limits.handshakeLogPerNonce = 3 }) { server in
            let nonce = Self.nonce()
            for _ in 0..<5 { _ = try await WSRawClient.open(server, path: "/echo?probe=\(nonce)") { $0.head.status } }
            _ = try await WSRawClient.open(server, path: "/echo") { $0.head.status }
            let attempts = try await Self.log(server, nonce)
            #expect(attempts.count == 3)
            #expect(try await Self.log(server, Self.nonce()).isEmpty)
        }
    }

    @Test func aMalformedNonceIs400() async throws {
        try await TestServer.with { server in
            for query in ["", "?probe=short", "?probe=has%20spaces%20in%20it%20yes", "?probe=" + String(repeating: "a", count: 65)] {
                let r = try await HTTP.request("GET", server.http + "/api/handshakes" + query)
                #expect(r.status == 400, "\(query)")
                #expect(r.json?["error"] as? String == "bad-probe")
                #expect((r.json?["message"] as? String)?.isEmpty == false)
            }
        }
    }
}
