import Diagnosis
import Foundation
import Testing

/// The whole report from evidence: which cause wins, what becomes of the others, skipped
/// stages, outcome and exit status, fallback, transcript, close, and the JSON contract.
@Suite("Diagnoser")
struct DiagnoserTests {
    static func stage(_ r: Report, _ name: StageName) throws -> Report.Stage {
        try #require(r.stages.first { $0.name == name.rawValue }, "no \(name.rawValue) stage")
    }

    static func selfSignedTLS(at date: Date) -> TLSEvidence {
        let leaf = CertificateSummary(
            subject: "CN=example.com", issuer: "CN=example.com", serial: "01", notBefore: date - 86_400 * 30,
            notAfter: date + 86_400 * 300, dnsNames: ["example.com"], ipAddresses: [], isCA: false, selfIssued: true,
            sha256: String(repeating: "ab", count: 32))
        var tls = TLSEvidence(checkedAt: date)
        tls.version = "TLS 1.3"
        tls.alpn = "http/1.1"
        tls.chain = [leaf]
        tls.trust = .selfSigned
        tls.durationMs = 9
        return tls
    }

    // MARK: healthy

    @Test("every stage working: healthy, exit 0, every stage listed in order")
    func healthy() throws {
        let r = Diagnoser.diagnose(Fixture.healthy())
        #expect(r.cause.id == "healthy")
        #expect(r.causeID == .healthy)
        #expect(r.outcome == .healthy)
        #expect(r.exitStatus == 0)
        #expect(r.findings.isEmpty)
        #expect(r.stages.map(\.name) == StageName.allCases.map(\.rawValue))
        for name in [StageName.target, .proxy, .resolve, .connect, .handshake, .exchange, .close] {
            #expect(try Self.stage(r, name).status == .passed, "\(name.rawValue)")
        }
        #expect(r.cause.evidence.contains { $0.contains("101") })
        #expect(r.schema == "wsdoctor.report/v1")
        #expect(r.tool.name == "wsdoctor")
        #expect(r.target.url == "ws://example.com/ws")
        #expect(r.target.port == 80)
        #expect(r.target.secure == false)
        #expect(r.startedAt == "2026-11-18T11:06:40.000Z")
    }

    @Test("the same evidence always gives the same report")
    func pure() {
        #expect(Diagnoser.diagnose(Fixture.healthy()) == Diagnoser.diagnose(Fixture.healthy()))
    }

    // MARK: which cause wins

    @Test("the first cause in stage order wins")
    func firstCauseWins() throws {
        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([(Fixture.address, .refused)])
        // Evidence a later stage would accuse, were it reached.
        e.handshake = Fixture.handshake(Fixture.head(404))
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "connection-refused")
        expectRequiredData(r.cause)
        #expect(r.outcome == .failed)
        #expect(r.exitStatus == 1)
    }

    @Test("with --insecure a TLS cause still wins, and the handshake's cause is kept as an error finding")
    func laterCauseBecomesFinding() throws {
        var e = Fixture.evidence("wss://example.com/ws", settings: .init(insecure: true))
        e.tls = Self.selfSignedTLS(at: Fixture.startedAt)
        e.handshake = Fixture.handshake(Fixture.head(404))
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "tls-untrusted-certificate")
        #expect(try Self.stage(r, .tls).status == .warning)
        #expect(try Self.stage(r, .handshake).status == .failed)
        let later = try #require(r.findings.first { $0.id == "route-not-found" })
        #expect(later.severity == .error)
        #expect(later.stage == "handshake")
        #expect(later.data["status"] == .int(404))
        #expect(!r.findings.contains { $0.id == "tls-untrusted-certificate" }, "the primary cause is not repeated")
        #expect(r.outcome == .failed)
    }

    @Test("a health warning is a finding, never the cause")
    func healthNeverCause() throws {
        var e = Fixture.healthy()
        e.health = Fixture.health(Fixture.httpCheck(status: 503))
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "healthy")
        #expect(r.findings.map(\.id) == ["health-check-failing"])
        #expect(r.outcome == .degraded)
        #expect(r.exitStatus == 0)
    }

    // MARK: skipped stages

    @Test("stages after a failure are skipped, each with its reason")
    func skippedReasons() throws {
        var e = Fixture.evidence("wss://example.com/ws")
        e.connect = Fixture.connectFailed(port: 443, [(Fixture.address, .timeout)])
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "connect-timeout")
        for name in [StageName.tls, .health, .handshake, .exchange, .idle, .close] {
            let s = try Self.stage(r, name)
            #expect(s.status == .skipped, "\(name.rawValue)")
            #expect(s.summary == "skipped: the connect stage failed", "\(name.rawValue)")
        }
        #expect(try Self.stage(r, .fallback).summary.contains("no fallback endpoints known"))
    }

    @Test("stages not requested say why: idle without --idle, health with --health none, tls on ws://")
    func notRequestedReasons() throws {
        var e = Fixture.healthy()
        e.settings.healthDisabled = true
        let r = Diagnoser.diagnose(e)
        #expect(r.outcome == .healthy)
        #expect(try Self.stage(r, .idle).summary.contains("--idle"))
        #expect(try Self.stage(r, .health).summary == "disabled with --health none")
        #expect(try Self.stage(r, .tls).summary == "not a wss:// URL")
        for name in [StageName.idle, .health, .tls, .fallback] {
            #expect(try Self.stage(r, name).status == .skipped)
        }
    }

    // MARK: outcome

    enum Case: String, CaseIterable, Sendable {
        case healthy, slowHandshake, serverCloses, refused, infoOnly
    }

    static func evidence(for c: Case) -> Evidence {
        var e = Fixture.healthy()
        switch c {
        case .healthy: break
        case .slowHandshake: e.handshake?.durationMs = 2000
        case .serverCloses: e.exchange = Fixture.exchangeEnded(.closeFrame(code: 1011, reason: "boom", afterMs: 5))
        case .refused:
            e.connect = Fixture.connectFailed([(Fixture.address, .refused)])
            e.handshake = nil
            e.exchange = nil
            e.close = nil
        case .infoOnly: e.connect = Fixture.connected(failedFirst: [("2001:db8::1", .unreachable)])
        }
        return e
    }

    @Test("failed exactly when the cause is not healthy; degraded is healthy with warnings", arguments: Case.allCases)
    func outcome(c: Case) {
        let r = Diagnoser.diagnose(Self.evidence(for: c))
        let warnings = r.findings.contains { $0.severity != .info } || r.stages.contains { $0.status == .warning }
        #expect((r.outcome == .failed) == (r.cause.id != "healthy"))
        #expect((r.exitStatus == 1) == (r.cause.id != "healthy"))
        if r.cause.id == "healthy" { #expect(r.outcome == (warnings ? .degraded : .healthy)) }
        let expected: [Case: Report.Outcome] = [
            .healthy: .healthy, .slowHandshake: .degraded, .serverCloses: .failed, .refused: .failed, .infoOnly: .healthy,
        ]
        #expect(r.outcome == expected[c])
    }

    // MARK: fallback

    @Test("WebSocket fails but SSE works: fallback-available, appended to the summary")
    func fallbackAvailable() throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshake(Fixture.head(426))
        e.fallback = Fixture.fallback(sse: true, poll: nil)
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "upgrade-headers-stripped")
        let f = try #require(r.findings.first { $0.id == "fallback-available" })
        #expect(f.severity == .info)
        #expect(f.data["transports"] == .strings(["SSE"]))
        #expect(r.cause.summary.hasSuffix("SSE works: the app can still be served through a fallback."))
        #expect(try Self.stage(r, .fallback).status == .passed)
        #expect(r.outcome == .failed)
    }

    @Test("WebSocket and every fallback fail: no-transport-works error, each broken transport a warning")
    func noTransportWorks() throws {
        var e = Fixture.evidence()
        e.handshake = Fixture.handshake(Fixture.head(502))
        e.fallback = Fixture.fallback(sse: false, poll: false)
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "bad-gateway")
        #expect(r.findings.filter { $0.id == "fallback-not-working" }.count == 2)
        let none = try #require(r.findings.first { $0.id == "no-transport-works" })
        #expect(none.severity == .error)
        #expect(!r.findings.contains { $0.id == "fallback-available" })
        #expect(!r.cause.summary.contains("fallback"))
        #expect(try Self.stage(r, .fallback).status == .warning)
    }

    @Test("WebSocket works and a fallback is broken: a warning, degraded, exit 0")
    func brokenFallbackDegrades() throws {
        var e = Fixture.healthy()
        e.fallback = Fixture.fallback(sse: true, poll: false)
        let r = Diagnoser.diagnose(e)
        #expect(r.cause.id == "healthy")
        #expect(r.findings.map(\.id) == ["fallback-not-working"])
        #expect(!r.findings.contains { $0.id == "fallback-available" || $0.id == "no-transport-works" })
        #expect(r.outcome == .degraded)
        #expect(r.exitStatus == 0)
    }

    // MARK: transcript and close

    @Test("the transcript is the handshake's request and raw response")
    func transcript() {
        var e = Fixture.evidence()
        let response = Fixture.head(404, headers: [("Server", "nginx")])
        e.handshake = Fixture.handshake(response)
        let r = Diagnoser.diagnose(e)
        #expect(r.transcript.request == Fixture.request())
        #expect(r.transcript.response == response.raw)
    }

    @Test("no handshake: no transcript")
    func noTranscript() {
        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([(Fixture.address, .refused)])
        let r = Diagnoser.diagnose(e)
        #expect(r.transcript.request == nil)
        #expect(r.transcript.response == nil)
    }

    @Test("close is always present: the handshake's values, or code null and initiatedBy none")
    func closeAlwaysPresent() throws {
        let r = Diagnoser.diagnose(Fixture.healthy())
        #expect(r.close == Report.Close(code: 1000, reason: "wsdoctor: done", initiatedBy: "client", clean: true))

        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([(Fixture.address, .refused)])
        let failed = Diagnoser.diagnose(e)
        #expect(failed.close.code == nil)
        #expect(failed.close.initiatedBy == "none")
        let json = try Self.parse(JSONReportRenderer.render(failed))
        let close = try #require(json["close"] as? [String: Any])
        #expect(close["code"] is NSNull)
        #expect(close["initiatedBy"] as? String == "none")
        #expect(close["clean"] as? Bool == false)
    }

    // MARK: JSON

    static func parse(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }

    @Test("the JSON report parses and has every key of the spec",
          arguments: [Case.healthy, .refused, .serverCloses])
    func jsonKeys(c: Case) throws {
        var e = Self.evidence(for: c)
        e.fallback = Fixture.fallback(sse: true, poll: nil)
        let r = Diagnoser.diagnose(e)
        let json = try Self.parse(JSONReportRenderer.render(r))
        let topLevel = ["schema", "tool", "target", "startedAt", "durationMs", "outcome", "cause", "findings", "stages",
                        "transcript", "close"]
        for key in topLevel { #expect(json[key] != nil, "missing \(key)") }
        #expect(json["schema"] as? String == "wsdoctor.report/v1")
        #expect(json["outcome"] as? String == r.outcome.rawValue)

        let tool = try #require(json["tool"] as? [String: Any])
        #expect(Set(tool.keys) == ["name", "version"])
        let target = try #require(json["target"] as? [String: Any])
        #expect(Set(target.keys).isSuperset(of: ["url", "host", "port", "secure", "path"]))
        let cause = try #require(json["cause"] as? [String: Any])
        #expect(Set(cause.keys).isSuperset(of: ["id", "title", "summary", "confidence", "fixes", "evidence", "data"]))
        #expect(cause["id"] as? String == r.cause.id)
        let data = try #require(cause["data"] as? [String: Any])
        for key in r.causeID?.requiredDataKeys ?? [] { #expect(data[key] != nil, "cause.data lacks \(key)") }
        let stages = try #require(json["stages"] as? [[String: Any]])
        #expect(stages.count == StageName.allCases.count)
        for s in stages { #expect(Set(s.keys).isSuperset(of: ["name", "status", "durationMs", "details"])) }
        let findings = try #require(json["findings"] as? [[String: Any]])
        #expect(findings.count == r.findings.count)
        for f in findings { #expect(Set(f.keys).isSuperset(of: ["id", "severity", "stage", "message", "data"])) }
        let transcript = try #require(json["transcript"] as? [String: Any])
        #expect(Set(transcript.keys) == ["request", "response"])
        let close = try #require(json["close"] as? [String: Any])
        #expect(Set(close.keys) == ["code", "reason", "initiatedBy", "clean"])
    }
}
