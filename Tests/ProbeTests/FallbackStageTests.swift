import Diagnosis
import Foundation
import Testing
@testable import Probe

/// The fallback stage against a server that speaks the wsdoctor discovery protocol.
@Suite("Fallback stage")
struct FallbackStageTests {
    /// A wsdoctor-like server whose WebSocket path is broken (as behind a stripping proxy)
    /// while SSE and long-polling answer as configured.
    private static func server(sseWorks: Bool, pollWorks: Bool, seenUpgrade: Bool = false) -> FaultBehavior {
        { c in
            guard let req = await c.readRequest() else { return }
            switch req.pathOnly {
            case "/api/realtime":
                await c.respond(200, "OK", headers: [("Content-Type", "application/json")], body: """
                    {"protocol":"wsdoctor.realtime/1","transports":{"websocket":"/ws","sse":"/sse","poll":"/poll"},"pingIntervalMs":20000}
                    """)
            case "/api/health":
                await c.respond(200, "OK", body: #"{"status":"ok"}"#)
            case "/api/handshakes":
                let upgrade = seenUpgrade ? #""websocket""# : "null"
                await c.respond(200, "OK", headers: [("Content-Type", "application/json")], body: """
                    {"probe":"x","attempts":[{"at":"2026-11-21T10:00:00.000Z","path":"/ws","upgrade":\(upgrade),"connection":\(seenUpgrade ? #""Upgrade""# : "null"),"key":\(seenUpgrade),"version":null,"origin":null,"via":true,"forwardedFor":true,"outcome":"rejected","status":426}]}
                    """)
            case "/sse" where sseWorks:
                await c.send("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\nretry: 2000\n\n")
                _ = await c.readRequest(timeout: 3)
            case "/poll" where pollWorks:
                await c.respond(200, "OK", headers: [("Content-Type", "application/json")],
                                body: #"{"messages":[],"positions":{},"recovered":{}}"#)
            case "/ws":
                await c.respond(426, "Upgrade Required", headers: [("Upgrade", "websocket")], body: "Upgrade Required")
            default:
                await c.respond(403, "Forbidden", body: "blocked")
            }
            await c.close()
        }
    }

    @Test func webSocketFailsButFallbackServes() async throws {
        let report = try await FaultServer.with(Self.server(sseWorks: true, pollWorks: true)) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws")
        }
        expectCause(report, .upgradeHeadersStripped)
        // The server's own handshake log proves the headers were lost on the way.
        #expect(report.cause.confidence == .high)
        #expect(report.cause.evidence.contains { $0.contains("handshake log") })
        #expect(report.findings.contains { $0.id == "fallback-available" })
        #expect(stage(report, .fallback)?.status == .passed)
        #expect(report.transcript.request?.contains("probe=") == true)
    }

    @Test func serverThatSawTheHeadersIsNotBlamedOnAProxy() async throws {
        let report = try await FaultServer.with(Self.server(sseWorks: true, pollWorks: true, seenUpgrade: true)) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws")
        }
        expectCause(report, .handshakeRejected)
    }

    @Test func nothingWorksIsReported() async throws {
        let report = try await FaultServer.with(Self.server(sseWorks: false, pollWorks: false)) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws")
        }
        #expect(report.findings.contains { $0.id == "no-transport-works" && $0.severity == .error })
        #expect(report.findings.filter { $0.id == "fallback-not-working" }.count == 2)
        #expect(stage(report, .fallback)?.status == .warning)
    }

    @Test func explicitFallbackURLsAreChecked() async throws {
        let report = try await FaultServer.with(Self.server(sseWorks: true, pollWorks: false)) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws") {
                $0.sseURL = "http://127.0.0.1:\(port)/sse"
                $0.pollURL = "http://127.0.0.1:\(port)/poll"
            }
        }
        let fallback = try #require(stage(report, .fallback))
        #expect(fallback.summary.contains("SSE works"))
        #expect(fallback.summary.contains("long-polling fails"))
    }

    /// On a discovered wsdoctor server, `/echo` gets a message round trip, not only ping/pong.
    @Test func discoveredEchoEndpointGetsAMessageRoundTrip() async throws {
        let report = try await FaultServer.with({ c in
            guard let req = await c.readRequest() else { return }
            if req.isUpgrade {
                await c.upgrade(req)
                return await c.serveWebSocket()
            }
            if req.pathOnly == "/api/realtime" {
                await c.respond(200, "OK", body: #"{"protocol":"wsdoctor.realtime/1","transports":{"websocket":"/ws","sse":"/sse","poll":"/poll"}}"#)
            } else {
                await c.respond(404, "Not Found")
            }
            await c.close()
        }) { port in await diagnose("ws://127.0.0.1:\(port)/echo") }
        expectCause(report, .healthy)
        let exchange = try #require(stage(report, .exchange))
        #expect(exchange.summary.contains("reply in"))
        #expect(exchange.details["sent"]?.stringValue?.hasPrefix("wsd-") == true)
    }
}
