import Diagnosis
import Foundation
import Testing
@testable import Probe

/// Each handshake-level cause, reproduced by a server on 127.0.0.1 that really misbehaves.
@Suite("Handshake causes, reproduced")
struct HandshakeCauseTests {
    @Test func healthyServerIsHealthy() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req)
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .healthy)
        #expect(report.outcome == .healthy)
        #expect(stage(report, .exchange)?.status == .passed)
        #expect(report.close.initiatedBy == "client")
        #expect(report.close.code == 1000)
        #expect(report.close.clean)
        #expect(report.transcript.request?.contains("Sec-WebSocket-Key:") == true)
        #expect(report.transcript.response?.hasPrefix("HTTP/1.1 101") == true)
    }

    /// Programmatic callers (the monitor, the server's /probe) hand the probe raw URLs.
    @Test(arguments: ["ftp://example.com/ws", "ws://", "ws://exa mple.com/", "ws://host:70000/"])
    func unusableURLIsInvalidTarget(url: String) async {
        let report = await diagnose(url)
        expectCause(report, .invalidTarget)
        #expect(report.target.url == url)
        #expect(report.stages.filter { $0.status != .skipped }.map(\.name) == ["target"])
    }

    @Test func wrongAcceptIsInvalidAccept() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req, accept: "dGhlIHNhbXBsZSBub25jZQ==")
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .invalidAccept)
    }

    @Test func missingUpgradeHeaderIsInvalidUpgradeResponse() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req, upgradeHeader: nil)
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .invalidUpgradeResponse)
    }

    @Test func silentServerIsHandshakeTimeout() async throws {
        let report = try await FaultServer.with({ c in
            _ = await c.readRequest()
            _ = await c.readRequest(timeout: 5)  // never answers
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 0.5) { $0.health = .none } }
        expectCause(report, .handshakeTimeout)
    }

    @Test func bannerIsNotHTTP() async throws {
        let report = try await FaultServer.with({ c in
            await c.send("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
            _ = await c.readRequest(timeout: 2)
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.health = .none } }
        expectCause(report, .notHTTP)
        #expect(report.cause.evidence.joined().contains("SSH-2.0"))
    }

    @Test func redirectIsReportedWithLocation() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { _ in
                await c.respond(301, "Moved Permanently", headers: [("Location", "https://example.test/ws")])
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .redirect)
        #expect(report.cause.data["location"]?.stringValue == "https://example.test/ws")
        #expect(report.cause.fixes.first?.contains("wss://example.test/ws") == true)
    }

    @Test(arguments: [
        (404, "Not Found", CauseID.routeNotFound),
        (405, "Method Not Allowed", .methodNotAllowed),
        (401, "Unauthorized", .authRequired),
        (502, "Bad Gateway", .badGateway),
        (504, "Gateway Timeout", .badGateway),
        (503, "Service Unavailable", .serviceUnavailable),
        (418, "I'm a teapot", .handshakeRejected),
        (429, "Too Many Requests", .handshakeRejected),
        (407, "Proxy Authentication Required", .proxyAuthRequired),
    ])
    func statusMapsToCause(status: Int, reason: String, cause: CauseID) async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { _ in await c.respond(status, reason, body: "refused") }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, cause)
        #expect(report.cause.data["status"]?.numberValue == Double(status))
    }

    @Test func ordinaryPageIsUpgradeIgnored() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { _ in
                await c.respond(200, "OK", headers: [("Content-Type", "text/html")], body: "<html><title>My SPA</title></html>")
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .upgradeIgnored)
    }

    /// The seed's Go logging middleware: plain HTTP works, the upgrade fails with 500.
    @Test func hijackerFailureIsMiddlewareBlocksUpgrade() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { _ in
                await c.respond(500, "Internal Server Error",
                                body: "websocket: response does not implement http.Hijacker\n")
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .middlewareBlocksUpgrade)
        #expect(report.cause.confidence == .high)
    }

    @Test func fiveHundredEverywhereIsServerError() async throws {
        let report = try await FaultServer.with({ c in
            _ = await c.readRequest()
            await c.respond(500, "Internal Server Error", body: "boom")
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .serverError)
    }

    /// A WebSocket server answers 400 to a request whose upgrade headers a proxy dropped,
    /// exactly as to a plain GET.
    @Test func badRequestLikePlainGetIsUpgradeHeadersStripped() async throws {
        let report = try await FaultServer.with({ c in
            // Whatever arrives is answered as if the upgrade headers were missing.
            _ = await c.readRequest()
            await c.respond(400, "Bad Request", headers: [("Server", "nginx/1.22.1")],
                            body: "websocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header")
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .upgradeHeadersStripped)
        #expect(report.cause.summary.contains("nginx"))
    }

    @Test func originRejectionIsConfirmedByRetry() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                if req.header("Origin") != nil { return await c.respond(403, "Forbidden", body: "origin not allowed") }
                await c.upgrade(req)
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.origin = "https://evil.example" } }
        expectCause(report, .originRejected)
    }

    @Test func forbiddenWithoutOriginIsNotBlamedOnOrigin() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { _ in await c.respond(403, "Forbidden", body: "no") }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.origin = "https://app.example" } }
        expectCause(report, .authRequired)
    }

    @Test func missingSubprotocolAnswerIsMismatch() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req)
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.subprotocols = ["graphql-ws"] } }
        expectCause(report, .subprotocolMismatch)
        #expect(report.cause.data["offered"] == .array(["graphql-ws"]))
    }

    @Test func agreedSubprotocolIsHealthy() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req, extraHeaders: [("Sec-WebSocket-Protocol", "graphql-ws")])
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.subprotocols = ["chat", "graphql-ws"] } }
        expectCause(report, .healthy)
    }

    @Test func unofferedExtensionIsMismatch() async throws {
        let report = try await FaultServer.with({ c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req, extraHeaders: [("Sec-WebSocket-Extensions", "permessage-deflate")])
                await c.serveWebSocket()
            }
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .extensionMismatch)
    }
}
