import Diagnosis
import Foundation
import Testing

/// Small builders for `Evidence` values, so each rule test states only what matters to it.
/// Everything defaults to a working `ws://example.com/ws` connection.
enum Fixture {
    static let startedAt = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    /// RFC 6455 §1.3's sample key and the accept it must produce.
    static let key = "dGhlIHNhbXBsZSBub25jZQ=="
    static let accept = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    static let address = "93.184.216.34"

    static func target(_ url: String = "ws://example.com/ws") -> Target {
        do { return try Target.parse(url) } catch { fatalError("fixture URL \(url): \(error)") }
    }

    /// A target that parsed, resolved and connected; later stages left unset (they did not run).
    static func evidence(_ url: String = "ws://example.com/ws", settings: ProbeSettingsSummary = .init()) -> Evidence {
        var e = Evidence(settings: settings, startedAt: startedAt)
        let t = target(url)
        e.settings.rawURL = url
        e.target = t
        e.resolve = resolved()
        e.connect = connected(port: t.port)
        e.durationMs = 42
        return e
    }

    /// A connection that worked through every stage: 101 with the right accept, a ping
    /// answered, a clean close started by the client.
    static func healthy(_ url: String = "ws://example.com/ws", settings: ProbeSettingsSummary = .init()) -> Evidence {
        var e = evidence(url, settings: settings)
        e.handshake = handshake(upgradeHead())
        e.exchange = exchange()
        e.close = cleanClose()
        return e
    }

    static func resolved(ipv4: [String] = [address], ipv6: [String] = [], literal: Bool = false) -> ResolveEvidence {
        var r = ResolveEvidence()
        r.ipv4 = ipv4
        r.ipv6 = ipv6
        r.literal = literal
        r.durationMs = 1.9
        return r
    }

    static func resolveFailed(_ failure: ResolveEvidence.Failure) -> ResolveEvidence {
        var r = ResolveEvidence()
        r.failure = failure
        r.durationMs = 250
        return r
    }

    /// Connected to `address`, after the failed attempts given (in order).
    static func connected(port: Int = 80, address: String = address,
                          failedFirst: [(String, NetworkFailure)] = []) -> ConnectEvidence {
        var c = ConnectEvidence(port: port)
        c.attempts = failedFirst.map { .init(address: $0.0, port: port, durationMs: 5, failure: $0.1) }
            + [.init(address: address, port: port, durationMs: 2.5, failure: nil)]
        c.connectedAddress = address
        c.durationMs = c.attempts.reduce(0) { $0 + $1.durationMs }
        return c
    }

    static func connectFailed(port: Int = 80, _ attempts: [(String, NetworkFailure)]) -> ConnectEvidence {
        var c = ConnectEvidence(port: port)
        c.attempts = attempts.map { .init(address: $0.0, port: port, durationMs: 3, failure: $0.1) }
        c.durationMs = c.attempts.reduce(0) { $0 + $1.durationMs }
        return c
    }

    static func proxy(status: Int? = 200, reason: String? = nil, connectFailure: NetworkFailure? = nil,
                      answerFailure: String? = nil) -> ProxyEvidence {
        var p = ProxyEvidence(url: "http://proxy.corp:3128", host: "proxy.corp", port: 3128, source: "HTTPS_PROXY")
        p.connectStatus = status
        p.connectReason = reason
        p.connectFailure = connectFailure
        p.answerFailure = answerFailure
        if let status { p.responseHead = "HTTP/1.1 \(status) \(reason ?? "")\r\n\r\n" }
        p.durationMs = 4
        return p
    }

    static let reasons = [
        101: "Switching Protocols", 200: "OK", 301: "Moved Permanently", 302: "Found", 400: "Bad Request",
        401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
        407: "Proxy Authentication Required", 418: "I'm a teapot", 426: "Upgrade Required", 429: "Too Many Requests",
        500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable",
        504: "Gateway Timeout", 507: "Insufficient Storage",
    ]

    /// A response head as the parser would produce it, raw text included.
    static func head(_ status: Int, _ reason: String? = nil, headers: [(String, String)] = []) -> ResponseHead {
        let reason = reason ?? reasons[status] ?? ""
        let raw = (["HTTP/1.1 \(status) \(reason)"] + headers.map { "\($0.0): \($0.1)" }).joined(separator: "\r\n")
            + "\r\n\r\n"
        return ResponseHead(version: "HTTP/1.1", status: status, reason: reason, headers: headers, raw: raw)
    }

    /// A 101 answer; pass `nil` to leave a header out.
    static func upgradeHead(accept: String? = accept, upgrade: String? = "websocket", connection: String? = "Upgrade",
                            extra: [(String, String)] = []) -> ResponseHead {
        var headers: [(String, String)] = []
        if let upgrade { headers.append(("Upgrade", upgrade)) }
        if let connection { headers.append(("Connection", connection)) }
        if let accept { headers.append(("Sec-WebSocket-Accept", accept)) }
        return head(101, headers: headers + extra)
    }

    static func request(path: String = "/ws", origin: String? = nil, extra: [String] = []) -> String {
        (["GET \(path) HTTP/1.1", "Host: example.com", "Upgrade: websocket", "Connection: Upgrade",
          "Sec-WebSocket-Key: \(key)", "Sec-WebSocket-Version: 13"] + (origin.map { ["Origin: \($0)"] } ?? []) + extra)
            .joined(separator: "\r\n") + "\r\n\r\n"
    }

    static func handshake(_ response: ResponseHead?, body: String? = nil, durationMs: Double = 12,
                          origin: String? = nil, subprotocols: [String] = [], extensions: [String] = []) -> HandshakeEvidence {
        var h = HandshakeEvidence(request: request(origin: origin), key: key, expectedAccept: accept,
                                  offeredSubprotocols: subprotocols, offeredExtensions: extensions, origin: origin)
        h.response = response
        h.bodySnippet = body
        h.durationMs = durationMs
        return h
    }

    static func handshakeFailed(_ failure: HandshakeEvidence.Failure, durationMs: Double = 80) -> HandshakeEvidence {
        var h = handshake(nil, durationMs: durationMs)
        h.failure = failure
        return h
    }

    /// What a wsdoctor server's handshake log saw; `nil` for a header that did not arrive.
    static func serverView(upgrade: String?, connection: String?, via: Bool = true) -> ServerHandshakeView {
        ServerHandshakeView(upgrade: upgrade, connection: connection, keyArrived: true, version: "13", origin: nil,
                            via: via, forwardedFor: via, outcome: "rejected", status: 400)
    }

    static func httpCheck(_ url: String = "http://example.com/health", status: Int?, headers: [(String, String)] = [],
                          body: String? = nil, failure: String? = nil) -> HTTPCheck {
        var c = HTTPCheck(url: url)
        c.response = status.map { head($0, headers: headers) }
        c.bodySnippet = body
        c.failure = failure
        c.durationMs = 3
        return c
    }

    static func health(_ checks: HTTPCheck...) -> HealthEvidence {
        var h = HealthEvidence()
        h.checks = checks.isEmpty ? [httpCheck(status: 200)] : checks
        return h
    }

    static func exchange(rttMs: Double = 3.2) -> ExchangeEvidence {
        var x = ExchangeEvidence()
        x.pingRoundTripMs = rttMs
        x.durationMs = rttMs + 1
        return x
    }

    static func exchangeEnded(_ end: ConnectionEnd) -> ExchangeEvidence {
        var x = ExchangeEvidence()
        x.end = end
        x.durationMs = 30
        return x
    }

    static func idle(requested: Double = 75, held: Double, silentAtEnd: Double? = nil, serverPings: Int = 0,
                     end: ConnectionEnd? = nil) -> IdleEvidence {
        var i = IdleEvidence(requestedSeconds: requested)
        i.heldSeconds = held
        i.silentSecondsAtEnd = silentAtEnd
        i.serverPings = serverPings
        i.end = end
        return i
    }

    static func cleanClose() -> CloseEvidence {
        var c = CloseEvidence(initiatedBy: .client, code: 1000, reason: "wsdoctor: done", clean: true)
        c.durationMs = 1.5
        return c
    }

    static func transport(_ url: String, works: Bool, status: Int? = nil) -> FallbackEvidence.TransportCheck {
        .init(url: url, works: works, status: status ?? (works ? 200 : 404), durationMs: 8,
              detail: works ? "event received" : "answered \(status ?? 404)")
    }

    static func fallback(sse: Bool?, poll: Bool?) -> FallbackEvidence {
        var f = FallbackEvidence()
        f.discovered = true
        f.sse = sse.map { transport("http://example.com/api/sse", works: $0) }
        f.poll = poll.map { transport("http://example.com/api/poll", works: $0) }
        f.durationMs = 16
        return f
    }
}

/// The judgement names `id` as its cause, carries the `data` keys the spec requires for it,
/// and marks its stage `stageStatus` (failed, unless a rule says otherwise). Returns the cause.
@discardableResult
func requireCause(
    _ judgement: StageJudgement?, _ id: CauseID, stageStatus: Report.Stage.Status = .failed,
    sourceLocation: SourceLocation = #_sourceLocation
) throws -> Report.Cause {
    let j = try #require(judgement, "the stage was not judged", sourceLocation: sourceLocation)
    let cause = try #require(j.cause, "no cause; stage summary: \(j.stage.summary)", sourceLocation: sourceLocation)
    #expect(cause.id == id.rawValue, "\(cause.summary)", sourceLocation: sourceLocation)
    expectRequiredData(cause, sourceLocation: sourceLocation)
    #expect(j.stage.status == stageStatus, sourceLocation: sourceLocation)
    return cause
}

/// Every `data` key the spec requires for the cause's id is present.
func expectRequiredData(_ cause: Report.Cause, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let id = CauseID(rawValue: cause.id) else {
        Issue.record("unknown cause id \(cause.id)", sourceLocation: sourceLocation)
        return
    }
    for key in id.requiredDataKeys {
        #expect(cause.data[key] != nil, "\(cause.id) lacks data.\(key)", sourceLocation: sourceLocation)
    }
}

/// The judgement ran, found no cause, and gave its stage `status`.
@discardableResult
func requireNoCause(
    _ judgement: StageJudgement?, status: Report.Stage.Status = .passed, sourceLocation: SourceLocation = #_sourceLocation
) throws -> StageJudgement {
    let j = try #require(judgement, "the stage was not judged", sourceLocation: sourceLocation)
    #expect(j.cause == nil, "unexpected cause \(j.cause?.id ?? ""): \(j.cause?.summary ?? "")", sourceLocation: sourceLocation)
    #expect(j.stage.status == status, sourceLocation: sourceLocation)
    return j
}
