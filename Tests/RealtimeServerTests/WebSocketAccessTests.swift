import Foundation
import HTTPTypes
import RealtimeServer
import NIOCore
import Testing
@testable import Probe

/// Who may upgrade, and what everyone else is answered: origins, capacity, plain GETs,
/// unknown paths; and `/echo`.
@Suite("WebSocket upgrades and refusals", .timeLimit(.minutes(2)))
struct WebSocketAccessTests {
    @Test func disallowedOriginIsRefused403WithJSON() async throws {
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            for path in ["/ws", "/echo"] {
                let (status, type, body) = try await WSRawClient.open(server, path: path, origin: "https://evil.example") { ws in
                    (ws.head.status, ws.head.header("Content-Type"), await ws.body())
                }
                #expect(status == 403)
                #expect(type?.hasPrefix("application/json") == true)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                #expect(json["error"] as? String == "origin-not-allowed")
                #expect((json["message"] as? String)?.contains("https://evil.example") == true)
            }
            // Allowed, same-origin and no Origin at all are upgraded.
            for origin in ["https://app.example", "http://127.0.0.1:\(server.port)", nil] {
                let status = try await WSRawClient.open(server, path: "/ws", origin: origin) { $0.head.status }
                #expect(status == 101, "origin \(origin ?? "none")")
            }
            // The plain GET is refused for the origin too.
            let plain = try await HTTP.request("GET", server.http + "/ws", headers: [("Origin", "https://evil.example")])
            #expect(plain.status == 403 && plain.json?["error"] as? String == "origin-not-allowed")
        }
    }

    @Test func connectionLimitAnswers503WithRetryAfterAndFreesTheSlot() async throws {
        try await TestServer.with({ $0.limits.maxConnections = 1 }) { server in
            try await WSRawClient.open(server, path: "/ws") { first in
                try await first.welcome()
                let health = try await HTTP.request("GET", server.http + "/api/health")
                #expect((health.json?["connections"] as? [String: Any])?["websocket"] as? Int == 1)
                let (status, retry, body) = try await WSRawClient.open(server, path: "/echo") { ws in
                    (ws.head.status, ws.head.header("Retry-After"), await ws.body())
                }
                #expect(status == 503)
                #expect(retry.flatMap(Int.init) != nil)
                let json = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
                #expect(json["error"] as? String == "over-capacity")
                try await first.sendClose(code: 1000)
                #expect(try await first.waitForEnd())
                return true
            }
            // The slot came back when the first connection ended.
            var status = 0
            for _ in 0..<50 {
                status = try await WSRawClient.open(server, path: "/ws") { $0.head.status }
                if status == 101 { break }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(status == 101)
        }
    }

    @Test func plainGetIsAnswered426WithUpgradeWebsocket() async throws {
        try await TestServer.with { server in
            for path in ["/ws", "/echo", "/ws?probe=whatever"] {
                let r = try await HTTP.request("GET", server.http + path)
                #expect(r.status == 426, "\(path)")
                #expect(r.header("Upgrade") == "websocket")
                #expect(r.json?["error"] as? String == "upgrade-required")
            }
        }
    }

    @Test func incompleteUpgradesAre426NotARedirectLoopOrASilentClose() async throws {
        try await TestServer.with { server in
            let host = "Host: 127.0.0.1:\(server.port)\r\n"
            let key = "Sec-WebSocket-Key: \(HandshakeRequest.randomKey())\r\n"
            let requests = [
                // A proxy that dropped only `Connection: Upgrade`.
                "GET /ws HTTP/1.1\r\n\(host)Upgrade: websocket\r\nConnection: keep-alive\r\n\(key)Sec-WebSocket-Version: 13\r\n\r\n",
                "GET /echo HTTP/1.1\r\n\(host)Upgrade: websocket\r\n\(key)Sec-WebSocket-Version: 13\r\n\r\n",
                // An unsupported version, a missing key.
                "GET /ws HTTP/1.1\r\n\(host)Upgrade: websocket\r\nConnection: Upgrade\r\n\(key)Sec-WebSocket-Version: 8\r\n\r\n",
                "GET /ws HTTP/1.1\r\n\(host)Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
            ]
            for request in requests {
                let (status, upgrade, version, body) = try await WSRawClient.open(server, path: "/ws", rawRequest: request) {
                    ($0.head.status, $0.head.header("Upgrade"), $0.head.header("Sec-WebSocket-Version"), await $0.body())
                }
                #expect(status == 426, "\(request)")
                #expect(upgrade == "websocket" && version == "13")
                #expect(body.contains("upgrade-required"))
            }
        }
    }

    @Test func upgradeOnAnotherPathIs404() async throws {
        try await TestServer.with { server in
            let (status, body) = try await WSRawClient.open(server, path: "/socket") { ($0.head.status, await $0.body()) }
            #expect(status == 404)
            #expect(body.contains("not-found"))
            // The query does not change the endpoint.
            let ok = try await WSRawClient.open(server, path: "/echo?anything=1&probe=x") { $0.head.status }
            #expect(ok == 101)
        }
    }

    @Test func echoReturnsTextAndBinary() async throws {
        try await TestServer.with(ServerConfiguration.forWSClient) { server in
            let close = try await WSReal.connect(server.ws + "/echo") { messages, out in
                try await out.write(.text("hello, echo"))
                #expect(try await messages.next() == .text("hello, echo"))
                let bytes = ByteBuffer(bytes: [0, 1, 2, 250, 255])
                try await out.write(.binary(bytes))
                #expect(try await messages.next() == .binary(bytes))
                let long = String(repeating: "é", count: 20_000)
                try await out.write(.text(long))
                #expect(try await messages.next() == .text(long))
            }
            // The client closed normally and the server answered its close.
            #expect(close?.closeCode.number == 1000)
            // Pings are answered on /echo.
            try await WSRawClient.open(server, path: "/echo") { ws in
                try await ws.send(.ping, Array("p1".utf8))
                #expect(try await ws.next() == .pong(Array("p1".utf8)))
                return true
            }
        }
    }

    @Test func echoRefusesOversizeMessages1009() async throws {
        try await TestServer.with({ $0.limits.maxMessageSize = 256 }) { server in
            let code = try await WSRawClient.open(server, path: "/echo") { ws in
                try await ws.send(.binary, Array(repeating: 7, count: 1000))
                return try await ws.closeFrame()?.code
            }
            #expect(code == 1009)
        }
    }
}
