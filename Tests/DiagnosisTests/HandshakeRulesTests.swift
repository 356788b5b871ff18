import Diagnosis
import Foundation
import Testing

/// The opening handshake judged from plain evidence: every status branch, the failures
/// before an answer, and the semantics of a 101.
@Suite("Handshake rules")
struct HandshakeRulesTests {
    /// Evidence for `url` whose upgrade got `response` (body and confirmations as given).
    static func answered(
        _ response: ResponseHead, body: String? = nil, url: String = "ws://example.com/ws", origin: String? = nil,
        subprotocols: [String] = [], extensions: [String] = [], durationMs: Double = 12,
        _ configure: (inout Evidence) -> Void = { _ in }
    ) -> Evidence {
        var e = Fixture.evidence(url)
        e.handshake = Fixture.handshake(response, body: body, durationMs: durationMs, origin: origin,
                                        subprotocols: subprotocols, extensions: extensions)
        configure(&e)
        return e
    }

    static func judge(_ e: Evidence) -> StageJudgement? { HandshakeRules.judge(e) }

    @Test("no handshake evidence: the stage did not run")
    func notRun() {
        #expect(HandshakeRules.judge(Fixture.evidence()) == nil)
    }

    // MARK: 2xx, 3xx

    @Test("2xx instead of 101 is upgrade-ignored, naming the content type", arguments: [200, 204])
    func upgradeIgnored(status: Int) throws {
        let e = Self.answered(Fixture.head(status, headers: [("Content-Type", "text/html")]), body: "<!doctype html>")
        let cause = try requireCause(Self.judge(e), .upgradeIgnored)
        #expect(cause.data["status"] == .int(status))
        #expect(cause.evidence.contains("Content-Type: text/html"))
    }

    @Test("3xx is redirect with the location, and the fix is the ws URL to use",
          arguments: [
              (301, "https://example.com/ws/", "wss://example.com/ws/"),
              (302, "http://www.example.com/ws", "ws://www.example.com/ws"),
              (308, "/socket", "ws://example.com:8080/socket"),
          ])
    func redirect(status: Int, location: String, fix: String) throws {
        let e = Self.answered(Fixture.head(status, headers: [("Location", location)]), url: "ws://example.com:8080/ws")
        let cause = try requireCause(Self.judge(e), .redirect)
        #expect(cause.data["status"] == .int(status))
        #expect(cause.data["location"] == .string(location))
        #expect(cause.fixes.first == "connect to the final URL directly: \(fix)")
    }

    /// `Location: //host/path` is a network-path reference (RFC 3986 §4.2): another host.
    /// `webSocketURL(for:base:)` takes any leading "/" for a path on the same host.
    @Test("a protocol-relative Location points to another host")
    func protocolRelativeRedirect() throws {
        let e = Self.answered(Fixture.head(301, headers: [("Location", "//ws.example.net/socket")]))
        let cause = try requireCause(Self.judge(e), .redirect)
        #expect(cause.fixes.first == "connect to the final URL directly: ws://ws.example.net/socket")
    }

    @Test("a redirect without Location still carries both required keys")
    func redirectWithoutLocation() throws {
        let cause = try requireCause(Self.judge(Self.answered(Fixture.head(302))), .redirect)
        #expect(cause.data["location"] == "")
    }

    // MARK: 400 / 426: stripped or rejected

    @Test("the server's log shows Upgrade missing: upgrade-headers-stripped, high", arguments: [400, 426])
    func serverViewStripped(status: Int) throws {
        let e = Self.answered(Fixture.head(status, headers: [("Via", "1.1 varnish")]), body: "Bad Request") {
            $0.confirmations.serverView = Fixture.serverView(upgrade: nil, connection: "close")
        }
        let cause = try requireCause(Self.judge(e), .upgradeHeadersStripped)
        #expect(cause.confidence == .high)
        #expect(cause.data["status"] == .int(status))
        #expect(cause.data["intermediary"] == "Varnish")
        #expect(cause.evidence.contains { $0.contains("arrived without Upgrade and Connection: Upgrade") })
        #expect(cause.fixes.first?.contains("vcl_recv") == true, "the intermediary's configuration hint comes first")
    }

    @Test("the server's log shows the upgrade headers arrived: handshake-rejected", arguments: [400, 426])
    func serverViewRejected(status: Int) throws {
        let e = Self.answered(Fixture.head(status), body: "missing Sec-WebSocket-Key") {
            $0.confirmations.serverView = Fixture.serverView(upgrade: "websocket", connection: "Upgrade")
        }
        let cause = try requireCause(Self.judge(e), .handshakeRejected)
        #expect(cause.data["status"] == .int(status))
    }

    @Test("426 listing versions without 13 is a version refusal: handshake-rejected")
    func versionRefused() throws {
        let e = Self.answered(Fixture.head(426, headers: [("Sec-WebSocket-Version", "8, 7")]))
        let cause = try requireCause(Self.judge(e), .handshakeRejected)
        #expect(cause.summary.contains("8, 7"))
        #expect(cause.data["status"] == .int(426))
    }

    @Test("426 listing 13 among its versions is not a version refusal")
    func versionListWith13() throws {
        let e = Self.answered(Fixture.head(426, headers: [("Sec-WebSocket-Version", "13, 8")]))
        let cause = try requireCause(Self.judge(e), .upgradeHeadersStripped)
        #expect(cause.confidence == .high)
    }

    @Test("a plain GET gets the same status: the server cannot tell them apart, stripped", arguments: [400, 426])
    func plainGetSame(status: Int) throws {
        let e = Self.answered(Fixture.head(status)) { $0.confirmations.plainGet = Fixture.httpCheck(status: status) }
        let cause = try requireCause(Self.judge(e), .upgradeHeadersStripped)
        #expect(cause.evidence.contains { $0.contains("plain GET without upgrade headers gets the same \(status)") })
        #expect(cause.data["status"] == .int(status))
    }

    @Test("a plain GET gets a different status: the headers arrived, rejected")
    func plainGetDifferent() throws {
        let e = Self.answered(Fixture.head(400), body: "invalid token") {
            $0.confirmations.plainGet = Fixture.httpCheck(status: 200)
        }
        let cause = try requireCause(Self.judge(e), .handshakeRejected)
        #expect(cause.data["status"] == .int(400))
        #expect(cause.evidence.contains("a plain GET of the same path answered 200"))
    }

    @Test("a bare 400 with nothing to confirm is stripped only with low confidence")
    func bare400() throws {
        let cause = try requireCause(Self.judge(Self.answered(Fixture.head(400))), .upgradeHeadersStripped)
        #expect(cause.confidence == .low)
    }

    @Test("a 400 whose body talks about the upgrade is stripped with high confidence")
    func bodyMentionsUpgrade() throws {
        let e = Self.answered(Fixture.head(400), body: "Can \"Upgrade\" only to \"WebSocket\".")
        let cause = try requireCause(Self.judge(e), .upgradeHeadersStripped)
        #expect(cause.confidence == .high)
        #expect(cause.evidence.contains { $0.hasPrefix("the error body says:") })
    }

    @Test("nginx's 'plain HTTP request was sent to HTTPS port' page on ws:// is plaintext-to-tls-server")
    func nginxPlainToTLS() throws {
        let body = "<html><center>The plain HTTP request was sent to HTTPS port</center></html>"
        let e = Self.answered(Fixture.head(400, headers: [("Server", "nginx")]), body: body)
        try requireCause(Self.judge(e), .plaintextToTLSServer)
    }

    @Test("the same page on wss:// is not read as plaintext-to-tls-server")
    func nginxPageOnWSS() throws {
        let body = "The plain HTTP request was sent to HTTPS port"
        let e = Self.answered(Fixture.head(400), body: body, url: "wss://example.com/ws")
        #expect(Self.judge(e)?.cause?.id != CauseID.plaintextToTLSServer.rawValue)
    }

    @Test("the intermediary is named from Server or Via",
          arguments: [("Server", "nginx/1.25.3", "nginx"), ("Via", "1.1 varnish", "Varnish"),
                      ("Server", "cloudflare", "Cloudflare")])
    func intermediaryNamed(header: String, value: String, name: String) throws {
        let e = Self.answered(Fixture.head(426, headers: [(header, value)]))
        let j = try #require(Self.judge(e))
        let cause = try requireCause(j, .upgradeHeadersStripped)
        #expect(cause.data["intermediary"] == .string(name))
        #expect(cause.summary.contains(name))
        #expect(j.stage.details["intermediaries"] == .strings([name]))
    }

    // MARK: 401, 403, 404, 405, 407, 429

    @Test("401 is auth-required")
    func unauthorized() throws {
        let e = Self.answered(Fixture.head(401, headers: [("WWW-Authenticate", "Bearer")]))
        let cause = try requireCause(Self.judge(e), .authRequired)
        #expect(cause.data["status"] == .int(401))
        #expect(cause.evidence.contains("WWW-Authenticate: Bearer"))
    }

    @Test("403 without an Origin sent is auth-required, medium")
    func forbiddenNoOrigin() throws {
        let cause = try requireCause(Self.judge(Self.answered(Fixture.head(403))), .authRequired)
        #expect(cause.confidence == .medium)
        #expect(cause.data["status"] == .int(403))
    }

    @Test("403 with Origin, upgraded without it: origin-rejected")
    func originRejected() throws {
        let e = Self.answered(Fixture.head(403), origin: "https://app.example.com") {
            $0.confirmations.withoutOrigin = Fixture.handshake(Fixture.upgradeHead())
        }
        let cause = try requireCause(Self.judge(e), .originRejected)
        #expect(cause.data["status"] == .int(403))
        #expect(cause.data["origin"] == "https://app.example.com")
        #expect(cause.fixes.first?.contains("https://app.example.com") == true)
    }

    @Test("403 with Origin, still 403 without it: auth-required, not the origin")
    func forbiddenEitherWay() throws {
        let e = Self.answered(Fixture.head(403), origin: "https://app.example.com") {
            $0.confirmations.withoutOrigin = Fixture.handshake(Fixture.head(403))
        }
        let cause = try requireCause(Self.judge(e), .authRequired)
        #expect(cause.confidence == .medium)
        #expect(cause.evidence.contains("without Origin: 403"))
    }

    @Test("404 is route-not-found, naming the path and who answered")
    func notFound() throws {
        let e = Self.answered(Fixture.head(404, headers: [("Server", "nginx")]), url: "ws://example.com/ws?room=1")
        let cause = try requireCause(Self.judge(e), .routeNotFound)
        #expect(cause.data["status"] == .int(404))
        #expect(cause.summary.contains("/ws"))
        #expect(!cause.summary.contains("room=1"))
        #expect(cause.summary.contains("nginx"))
    }

    @Test("405 is method-not-allowed, quoting Allow")
    func methodNotAllowed() throws {
        let e = Self.answered(Fixture.head(405, headers: [("Allow", "POST")]))
        let cause = try requireCause(Self.judge(e), .methodNotAllowed)
        #expect(cause.evidence.contains("Allow: POST"))
    }

    @Test("407 to the upgrade itself is proxy-auth-required")
    func proxyAuthOnUpgrade() throws {
        try requireCause(Self.judge(Self.answered(Fixture.head(407))), .proxyAuthRequired)
    }

    @Test("429 is handshake-rejected as rate limiting, with backoff advice")
    func rateLimited() throws {
        let e = Self.answered(Fixture.head(429, headers: [("Retry-After", "30")]))
        let cause = try requireCause(Self.judge(e), .handshakeRejected)
        #expect(cause.title.contains("429"))
        #expect(cause.fixes.contains { $0.contains("backoff") })
        #expect(cause.evidence.contains("Retry-After: 30"))
    }

    @Test("other 4xx is handshake-rejected with its status", arguments: [402, 409, 418, 451])
    func otherClientError(status: Int) throws {
        let cause = try requireCause(Self.judge(Self.answered(Fixture.head(status))), .handshakeRejected)
        #expect(cause.data["status"] == .int(status))
    }

    // MARK: 5xx

    @Test("500 while the health check works: middleware-blocks-upgrade, medium")
    func middlewareByHealth() throws {
        let e = Self.answered(Fixture.head(500), body: "Internal Server Error") { $0.health = Fixture.health() }
        let cause = try requireCause(Self.judge(e), .middlewareBlocksUpgrade)
        #expect(cause.confidence == .medium)
        #expect(cause.data["status"] == .int(500))
        #expect(cause.evidence.contains("plain HTTP works: http://example.com/health answered 200"))
    }

    @Test("500 while a plain GET of the path works: middleware-blocks-upgrade")
    func middlewareByPlainGet() throws {
        let e = Self.answered(Fixture.head(500)) { $0.confirmations.plainGet = Fixture.httpCheck(status: 200) }
        try requireCause(Self.judge(e), .middlewareBlocksUpgrade)
    }

    @Test("500 whose body mentions Hijacker: middleware-blocks-upgrade, high, even with no health check")
    func middlewareByHijacker() throws {
        let e = Self.answered(Fixture.head(500), body: "websocket: response does not implement http.Hijacker")
        let cause = try requireCause(Self.judge(e), .middlewareBlocksUpgrade)
        #expect(cause.confidence == .high)
        #expect(cause.evidence.contains { $0.contains("Hijacker") })
    }

    @Test("500 with plain HTTP failing too is server-error")
    func serverError() throws {
        let e = Self.answered(Fixture.head(500), body: "panic") {
            $0.health = Fixture.health(Fixture.httpCheck(status: 500))
            $0.confirmations.plainGet = Fixture.httpCheck(status: 500)
        }
        let cause = try requireCause(Self.judge(e), .serverError)
        #expect(cause.data["status"] == .int(500))
    }

    @Test("502 and 504 are bad-gateway, naming the proxy", arguments: [502, 504])
    func badGateway(status: Int) throws {
        let e = Self.answered(Fixture.head(status, headers: [("Server", "awselb/2.0")]))
        let cause = try requireCause(Self.judge(e), .badGateway)
        #expect(cause.data["status"] == .int(status))
        #expect(cause.summary.hasPrefix("AWS ALB/ELB"))
    }

    @Test("503 is service-unavailable")
    func unavailable() throws {
        let e = Self.answered(Fixture.head(503, headers: [("Retry-After", "120")]))
        let cause = try requireCause(Self.judge(e), .serviceUnavailable)
        #expect(cause.data["status"] == .int(503))
        #expect(cause.evidence.contains("Retry-After: 120"))
    }

    @Test("other 5xx is server-error with its status", arguments: [505, 507, 599])
    func otherServerError(status: Int) throws {
        let cause = try requireCause(Self.judge(Self.answered(Fixture.head(status))), .serverError)
        #expect(cause.data["status"] == .int(status))
    }

    // MARK: no answer

    @Test("no bytes before the timeout: handshake-timeout")
    func timeoutSilent() throws {
        var e = Fixture.evidence(settings: .init(timeoutSeconds: 5))
        e.handshake = Fixture.handshakeFailed(.timeout(bytesReceived: 0))
        let cause = try requireCause(Self.judge(e), .handshakeTimeout)
        #expect(cause.data["bytesReceived"] == .int(0))
        #expect(cause.summary.contains("no answer within 5s"))
        #expect(!cause.evidence.contains { $0.contains("trickled") })
    }

    @Test("part of a head before the timeout: handshake-timeout, the trickle named")
    func timeoutTrickle() throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshakeFailed(.timeout(bytesReceived: 17))
        let cause = try requireCause(Self.judge(e), .handshakeTimeout)
        #expect(cause.data["bytesReceived"] == .int(17))
        #expect(cause.evidence.contains { $0.contains("trickled") })
    }

    @Test("closed or reset before an answer: abnormal-closure after the time taken",
          arguments: [HandshakeEvidence.Failure.closed(bytesReceived: 0), .reset(bytesReceived: 0), .closed(bytesReceived: 9)])
    func closedBeforeAnswer(failure: HandshakeEvidence.Failure) throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshakeFailed(failure, durationMs: 80)
        let cause = try requireCause(Self.judge(e), .abnormalClosure)
        #expect(cause.data["afterMs"] == .number(80))
        if case .reset = failure { #expect(cause.title.contains("reset")) } else { #expect(cause.title.contains("closed")) }
    }

    @Test("a non-HTTP banner is not-http, the banner kept for the transcript")
    func notHTTP() throws {
        var e = Fixture.evidence("ws://example.com:22/")
        e.handshake = Fixture.handshakeFailed(.notHTTP("SSH-2.0-OpenSSH_9.6\\r\\n"))
        let cause = try requireCause(Self.judge(e), .notHTTP)
        #expect(cause.data["banner"] == "SSH-2.0-OpenSSH_9.6\\r\\n")
        #expect(Diagnoser.diagnose(e).transcript.response == "SSH-2.0-OpenSSH_9.6\\r\\n")
    }

    @Test("a TLS record in answer on ws:// is plaintext-to-tls-server with a wss:// fix")
    func tlsAnswer() throws {
        var e = Fixture.evidence("ws://example.com:8443/ws")
        e.handshake = Fixture.handshakeFailed(.tlsAnswer)
        let cause = try requireCause(Self.judge(e), .plaintextToTLSServer)
        #expect(cause.fixes.first == "use wss://example.com:8443/ws")
    }

    @Test("a head that never ends is not-http, medium")
    func headTooLarge() throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshakeFailed(.headTooLarge(65_537))
        let cause = try requireCause(Self.judge(e), .notHTTP)
        #expect(cause.confidence == .medium)
        #expect(cause.data["headBytes"] == .int(65_537))
    }

    @Test("silence, a close or a TLS record, with a TLS handshake confirmed on the port: plaintext-to-tls-server",
          arguments: [HandshakeEvidence.Failure.timeout(bytesReceived: 0), .closed(bytesReceived: 0), .tlsAnswer])
    func speaksTLSConfirmed(failure: HandshakeEvidence.Failure) throws {
        var e = Fixture.evidence("ws://example.com:443/ws")
        e.handshake = Fixture.handshakeFailed(failure)
        e.confirmations.speaksTLS = true
        let cause = try requireCause(Self.judge(e), .plaintextToTLSServer)
        #expect(cause.evidence.contains("a TLS handshake on the same port succeeded"))
        #expect(cause.fixes.first == "use wss://example.com:443/ws")
    }

    @Test("a TLS probe that failed does not turn a timeout into plaintext-to-tls-server")
    func speaksTLSRefuted() throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshakeFailed(.timeout(bytesReceived: 0))
        e.confirmations.speaksTLS = false
        try requireCause(Self.judge(e), .handshakeTimeout)
    }

    // MARK: 101

    @Test("101 with the right accept passes")
    func upgraded() throws {
        let j = try requireNoCause(Self.judge(Self.answered(Fixture.upgradeHead())))
        #expect(j.findings.isEmpty)
        #expect(j.stage.details["acceptExpected"] == .string(Fixture.accept))
        #expect(j.stage.details["acceptReceived"] == .string(Fixture.accept))
    }

    @Test("101 without Upgrade: websocket or Connection: Upgrade is invalid-upgrade-response",
          arguments: [(nil, "Upgrade", "Upgrade: websocket"), ("websocket", nil, "Connection: Upgrade"),
                      ("h2c", "Upgrade", "Upgrade: websocket"), ("websocket", "keep-alive", "Connection: Upgrade")]
              as [(String?, String?, String)])
    func invalidUpgrade(upgrade: String?, connection: String?, missing: String) throws {
        let e = Self.answered(Fixture.upgradeHead(upgrade: upgrade, connection: connection))
        let cause = try requireCause(Self.judge(e), .invalidUpgradeResponse)
        #expect(cause.data["missing"] == .strings([missing]))
    }

    @Test("header values are matched case-insensitively, in lists")
    func upgradeTokensInLists() throws {
        let e = Self.answered(Fixture.upgradeHead(upgrade: "WebSocket", connection: "keep-alive, UPGRADE"))
        try requireNoCause(Self.judge(e))
    }

    @Test("101 with a missing or wrong Sec-WebSocket-Accept is invalid-accept",
          arguments: [nil, "dGhlIHNhbXBsZSBub25jZQ==", "S3PPLMBITXAQ9KYGZZHZRBK+XOO="] as [String?])
    func invalidAccept(received: String?) throws {
        let e = Self.answered(Fixture.upgradeHead(accept: received))
        let cause = try requireCause(Self.judge(e), .invalidAccept)
        #expect(cause.data["expected"] == .string(Fixture.accept))
        #expect(cause.data["received"] == .optional(received))
    }

    @Test("a subprotocol offered and none answered is subprotocol-mismatch")
    func subprotocolNone() throws {
        let e = Self.answered(Fixture.upgradeHead(), subprotocols: ["chat", "superchat"])
        let cause = try requireCause(Self.judge(e), .subprotocolMismatch)
        #expect(cause.data["offered"] == .strings(["chat", "superchat"]))
        #expect(cause.data["answered"] == .null)
    }

    @Test("a subprotocol answered that was not offered is subprotocol-mismatch", arguments: [[], ["chat"]] as [[String]])
    func subprotocolNotOffered(offered: [String]) throws {
        let e = Self.answered(Fixture.upgradeHead(extra: [("Sec-WebSocket-Protocol", "mqtt")]), subprotocols: offered)
        let cause = try requireCause(Self.judge(e), .subprotocolMismatch)
        #expect(cause.data["offered"] == .strings(offered))
        #expect(cause.data["answered"] == "mqtt")
    }

    @Test("an agreed subprotocol passes and is recorded")
    func subprotocolAgreed() throws {
        let e = Self.answered(Fixture.upgradeHead(extra: [("Sec-WebSocket-Protocol", "superchat")]),
                              subprotocols: ["chat", "superchat"])
        let j = try requireNoCause(Self.judge(e))
        #expect(j.stage.details["subprotocol"] == "superchat")
        #expect(j.stage.summary.contains("subprotocol superchat"))
    }

    @Test("an extension answered that was not offered is extension-mismatch")
    func unexpectedExtension() throws {
        let e = Self.answered(Fixture.upgradeHead(extra: [("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover")]))
        let cause = try requireCause(Self.judge(e), .extensionMismatch)
        #expect(cause.data["answered"] == .strings(["permessage-deflate; server_no_context_takeover"]))
    }

    @Test("an extension answered that was offered (with other parameters) passes")
    func offeredExtension() throws {
        let e = Self.answered(Fixture.upgradeHead(extra: [("Sec-WebSocket-Extensions", "permessage-deflate")]),
                              extensions: ["permessage-deflate; client_max_window_bits"])
        try requireNoCause(Self.judge(e))
    }

    @Test("an intermediary on a good 101 is an info finding only")
    func intermediaryOnUpgrade() throws {
        let e = Self.answered(Fixture.upgradeHead(extra: [("Server", "nginx/1.25.3")]))
        let j = try requireNoCause(Self.judge(e))
        #expect(j.findings.map(\.id) == ["intermediary-seen"])
        #expect(j.findings.first?.severity == .info)
        #expect(Diagnoser.diagnose(e).outcome == .healthy)
    }

    @Test("a handshake slower than a second is a warning, and the run is degraded, not failed")
    func slowHandshake() throws {
        let e = Self.answered(Fixture.upgradeHead(), durationMs: 1500)
        let j = try requireNoCause(Self.judge(e), status: .warning)
        let finding = try #require(j.findings.first)
        #expect(finding.id == "slow-handshake")
        #expect(finding.severity == .warning)
        #expect(finding.data["durationMs"] == .number(1500))

        let report = Diagnoser.diagnose(e)
        #expect(report.cause.id == "healthy")
        #expect(report.outcome == .degraded)
        #expect(report.exitStatus == 0)
    }

    @Test("exactly one second is not slow")
    func oneSecondIsNotSlow() throws {
        let j = try requireNoCause(Self.judge(Self.answered(Fixture.upgradeHead(), durationMs: 1000)))
        #expect(j.findings.isEmpty)
    }

    @Test("a slow handshake that fails keeps its warning next to the cause")
    func slowAndFailed() throws {
        let e = Self.answered(Fixture.head(404), durationMs: 2500)
        let j = try #require(Self.judge(e))
        try requireCause(j, .routeNotFound)
        #expect(j.findings.map(\.id) == ["slow-handshake"])
    }
}
