import Diagnosis
import Foundation
import Testing

/// The stages before any HTTP: target, proxy, resolve and connect, judged from plain evidence.
@Suite("Connection rules")
struct ConnectionRulesTests {
    // MARK: target

    @Test("an unusable URL is invalid-target, and nothing after it runs")
    func invalidTarget() throws {
        var e = Evidence(settings: .init(), startedAt: Fixture.startedAt)
        e.settings.rawURL = "ftp://example.com/"
        e.targetError = "unsupported scheme 'ftp': use ws://, wss://, http:// or https://"
        let cause = try requireCause(ConnectionRules.target(e), .invalidTarget)
        #expect(cause.summary.contains("unsupported scheme 'ftp'"))

        let report = Diagnoser.diagnose(e)
        #expect(report.cause.id == "invalid-target")
        #expect(report.outcome == .failed)
        #expect(report.exitStatus == 1)
        #expect(report.target.url == "ftp://example.com/")
        #expect(report.stages.map(\.name) == StageName.allCases.map(\.rawValue))
        #expect(report.stages.dropFirst().allSatisfy { $0.status == .skipped })
    }

    @Test("a parsed target passes with scheme, host, port and path in its details")
    func validTarget() throws {
        let e = Fixture.evidence("wss://example.com:8443/ws?room=1")
        let j = try requireNoCause(ConnectionRules.target(e))
        #expect(j.stage.details["scheme"] == "wss")
        #expect(j.stage.details["host"] == "example.com")
        #expect(j.stage.details["port"] == .int(8443))
        #expect(j.stage.details["path"] == "/ws?room=1")
    }

    // MARK: proxy

    @Test("no proxy: the stage passes, connecting directly")
    func noProxy() throws {
        let j = try requireNoCause(ConnectionRules.proxy(Fixture.evidence()))
        #expect(j.stage.summary.contains("no proxy"))
    }

    @Test("a tunnel opened by the proxy passes and records the CONNECT status")
    func proxyTunnelOpen() throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy(status: 200, reason: "Connection established")
        let j = try requireNoCause(ConnectionRules.proxy(e))
        #expect(j.stage.details["connectStatus"] == .int(200))
        #expect(j.stage.details["source"] == "HTTPS_PROXY")
    }

    @Test("a proxy that cannot be reached is proxy-unreachable", arguments: [NetworkFailure.refused, .timeout, .unreachable])
    func proxyUnreachable(failure: NetworkFailure) throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy(status: nil, connectFailure: failure)
        let cause = try requireCause(ConnectionRules.proxy(e), .proxyUnreachable)
        #expect(cause.confidence == .high)
        #expect(cause.summary.contains("proxy.corp:3128"))
        #expect(cause.summary.contains("HTTPS_PROXY"))
    }

    @Test("407 from the proxy is proxy-auth-required")
    func proxyAuth() throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy(status: 407, reason: "Proxy Authentication Required")
        let cause = try requireCause(ConnectionRules.proxy(e), .proxyAuthRequired)
        #expect(cause.data["status"] == .int(407))
    }

    @Test("any other non-2xx CONNECT answer is proxy-connect-denied with its status", arguments: [403, 502, 400])
    func proxyDenied(status: Int) throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy(status: status, reason: "Forbidden")
        let cause = try requireCause(ConnectionRules.proxy(e), .proxyConnectDenied)
        #expect(cause.data["status"] == .int(status))
        #expect(cause.evidence.first?.hasPrefix("CONNECT answered \(status)") == true)
    }

    @Test("a proxy that accepts the connection but never answers CONNECT is proxy-unreachable, medium")
    func proxyNoAnswer() throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy(status: nil, answerFailure: "no answer to CONNECT within 10s")
        let cause = try requireCause(ConnectionRules.proxy(e), .proxyUnreachable)
        #expect(cause.confidence == .medium)
        #expect(cause.evidence == ["no answer to CONNECT within 10s"])
    }

    // MARK: resolve

    @Test("a name that does not exist, or has no addresses, is dns-no-such-host",
          arguments: [(.noSuchHost, "NXDOMAIN"), (.noAddresses, "no A or AAAA")] as [(ResolveEvidence.Failure, String)])
    func noSuchHost(failure: ResolveEvidence.Failure, words: String) throws {
        var e = Fixture.evidence()
        e.resolve = Fixture.resolveFailed(failure)
        let cause = try requireCause(ConnectionRules.resolve(e), .dnsNoSuchHost)
        #expect(cause.summary.contains("example.com"))
        #expect(cause.summary.contains(words))
    }

    @Test("a resolver that times out or fails is dns-failure",
          arguments: [ResolveEvidence.Failure.timeout, .failure("SERVFAIL")])
    func resolverFailure(failure: ResolveEvidence.Failure) throws {
        var e = Fixture.evidence()
        e.resolve = Fixture.resolveFailed(failure)
        try requireCause(ConnectionRules.resolve(e), .dnsFailure)
    }

    @Test("resolved addresses pass, both families listed")
    func resolvedAddresses() throws {
        var e = Fixture.evidence()
        e.resolve = Fixture.resolved(ipv4: ["192.0.2.1"], ipv6: ["2001:db8::1"])
        let j = try requireNoCause(ConnectionRules.resolve(e))
        #expect(j.stage.details["a"] == .strings(["192.0.2.1"]))
        #expect(j.stage.details["aaaa"] == .strings(["2001:db8::1"]))
        #expect(j.stage.summary.contains("192.0.2.1") && j.stage.summary.contains("2001:db8::1"))
    }

    @Test("an IP literal has nothing to resolve and passes")
    func ipLiteral() throws {
        var e = Fixture.evidence("ws://192.0.2.7:9000/ws")
        e.resolve = Fixture.resolved(ipv4: ["192.0.2.7"], literal: true)
        let j = try requireNoCause(ConnectionRules.resolve(e))
        #expect(j.stage.summary.contains("IP address"))
    }

    @Test("behind a proxy the resolve stage is skipped: the proxy resolves the name")
    func resolveSkippedBehindProxy() throws {
        var e = Fixture.evidence()
        e.proxy = Fixture.proxy()
        e.resolve = Fixture.resolveFailed(.noSuchHost)  // ignored: the proxy resolves
        let j = try requireNoCause(ConnectionRules.resolve(e), status: .skipped)
        #expect(j.stage.summary.contains("proxy"))
    }

    @Test("no resolve evidence: the stage did not run")
    func resolveNotRun() {
        var e = Fixture.evidence()
        e.resolve = nil
        #expect(ConnectionRules.resolve(e) == nil)
    }

    // MARK: connect

    @Test("refused is connection-refused with the port")
    func refused() throws {
        var e = Fixture.evidence("ws://example.com:8080/ws")
        e.connect = Fixture.connectFailed(port: 8080, [(Fixture.address, .refused)])
        let cause = try requireCause(ConnectionRules.connect(e), .connectionRefused)
        #expect(cause.data["port"] == .int(8080))
        #expect(cause.summary.contains("8080"))
    }

    @Test("no answer is connect-timeout with the port")
    func timeout() throws {
        var e = Fixture.evidence("wss://example.com/ws")
        e.connect = Fixture.connectFailed(port: 443, [(Fixture.address, .timeout)])
        let cause = try requireCause(ConnectionRules.connect(e), .connectTimeout)
        #expect(cause.data["port"] == .int(443))
    }

    @Test("no route is network-unreachable, naming the addresses")
    func unreachable() throws {
        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([("2001:db8::1", .unreachable), ("192.0.2.1", .unreachable)])
        let cause = try requireCause(ConnectionRules.connect(e), .networkUnreachable)
        #expect(cause.data["addresses"] == .strings(["2001:db8::1", "192.0.2.1"]))
    }

    @Test("mixed failures: a refusal is the clearest answer and wins")
    func mixedPicksRefused() throws {
        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([("2001:db8::1", .unreachable), ("192.0.2.1", .timeout), ("192.0.2.2", .refused)])
        let cause = try requireCause(ConnectionRules.connect(e), .connectionRefused)
        #expect(cause.evidence.count == 3, "every attempt is listed")
        #expect(cause.data["port"] == .int(80))
    }

    @Test("timeout beats unreachable when no address refused")
    func timeoutBeatsUnreachable() throws {
        var e = Fixture.evidence()
        e.connect = Fixture.connectFailed([("2001:db8::1", .unreachable), ("192.0.2.1", .timeout)])
        try requireCause(ConnectionRules.connect(e), .connectTimeout)
    }

    @Test("success after a failed IPv6 attempt passes with an info finding naming the failed address")
    func someAddressesFailed() throws {
        var e = Fixture.evidence()
        e.connect = Fixture.connected(failedFirst: [("2001:db8::1", .unreachable)])
        let j = try requireNoCause(ConnectionRules.connect(e))
        let finding = try #require(j.findings.first)
        #expect(j.findings.count == 1)
        #expect(finding.id == "some-addresses-failed")
        #expect(finding.severity == .info)
        #expect(finding.stage == "connect")
        #expect(finding.data["failed"] == .strings(["2001:db8::1"]))
        #expect(j.stage.details["attempts"]?.arrayValue?.count == 2)

        // Info only: the run is still healthy, not degraded.
        e.handshake = Fixture.handshake(Fixture.upgradeHead())
        let report = Diagnoser.diagnose(e)
        #expect(report.cause.id == "healthy")
        #expect(report.outcome == .healthy)
    }

    @Test("a direct success passes without findings")
    func connected() throws {
        let j = try requireNoCause(ConnectionRules.connect(Fixture.evidence()))
        #expect(j.findings.isEmpty)
        #expect(j.stage.summary.contains(Fixture.address))
    }
}
