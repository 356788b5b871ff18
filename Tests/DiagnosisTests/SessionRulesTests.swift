import Diagnosis
import Foundation
import Testing

/// The life of an upgraded connection judged from plain evidence: exchange, idle hold, close.
@Suite("Session rules")
struct SessionRulesTests {
    static func withExchange(_ x: ExchangeEvidence, settings: ProbeSettingsSummary = .init()) -> Evidence {
        var e = Fixture.healthy(settings: settings)
        e.exchange = x
        return e
    }

    static func withIdle(_ i: IdleEvidence, serverHeader: String? = nil) -> Evidence {
        var e = Fixture.healthy(settings: .init(idleSeconds: i.requestedSeconds))
        if let serverHeader { e.handshake = Fixture.handshake(Fixture.upgradeHead(extra: [("Server", serverHeader)])) }
        e.idle = i
        return e
    }

    // MARK: exchange

    @Test("a working ping/pong passes with its round trip")
    func exchangePasses() throws {
        let j = try requireNoCause(SessionRules.exchange(Self.withExchange(Fixture.exchange(rttMs: 3.24))))
        #expect(j.stage.details["pingRoundTripMs"] == .number(3.2))
        #expect(j.stage.summary == "ping/pong 3.2 ms")
    }

    @Test("no exchange evidence: the stage did not run")
    func exchangeNotRun() {
        #expect(SessionRules.exchange(Fixture.evidence()) == nil)
    }

    @Test("a frame breaking RFC 6455 is protocol-violation naming the rule",
          arguments: ["masked-frame", "reserved-bits", "invalid-utf8", "bad-close-code"])
    func violation(rule: String) throws {
        let x = Fixture.exchangeEnded(.violation(rule: rule, detail: "the server did \(rule)", afterMs: 15))
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x)), .protocolViolation)
        #expect(cause.data["rule"] == .string(rule))
        #expect(cause.summary.contains("the server did \(rule)"))
    }

    @Test("a close frame from the server is closed-by-server with code, reason and the code's meaning")
    func closedByServer() throws {
        let x = Fixture.exchangeEnded(.closeFrame(code: 1008, reason: "token expired", afterMs: 20))
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x)), .closedByServer)
        #expect(cause.data["code"] == .int(1008))
        #expect(cause.data["reason"] == "token expired")
        #expect(cause.data["meaning"] == .string(CloseCodes.info(1008)!.meaning))
        #expect(cause.title.contains("1008 Policy Violation"))
        #expect(cause.summary.contains("token expired"))
        #expect(cause.fixes.contains("Do not reconnect in a tight loop after 1008: the same request will be refused again"))
    }

    @Test("a close frame without a code still carries code (null) and reason")
    func closedWithoutCode() throws {
        let x = Fixture.exchangeEnded(.closeFrame(code: nil, reason: "", afterMs: 20))
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x)), .closedByServer)
        #expect(cause.data["code"] == .null)
        #expect(cause.data["reason"] == "")
    }

    @Test("TCP ending without a close frame is abnormal-closure after the time measured",
          arguments: [ConnectionEnd.eof(afterMs: 250), .reset(afterMs: 250)])
    func abnormalClosure(end: ConnectionEnd) throws {
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(Fixture.exchangeEnded(end))), .abnormalClosure)
        #expect(cause.data["afterMs"] == .number(250))
        #expect(cause.summary.contains("1006"))
    }

    @Test("no pong within the timeout is ping-unanswered")
    func pingUnanswered() throws {
        var x = Fixture.exchange()
        x.pingRoundTripMs = nil
        x.pingTimedOut = true
        x.unsolicitedMessages = 3
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x, settings: .init(timeoutSeconds: 5))),
                                     .pingUnanswered)
        #expect(cause.summary.contains("5s"))
        #expect(cause.evidence.contains { $0.contains("3 other messages arrived") })
    }

    @Test("no reply in time is message-timeout")
    func replyTimeout() throws {
        var x = Fixture.exchange()
        x.sentText = "hello"
        x.replyTimedOut = true
        let settings = ProbeSettingsSummary(sendText: "hello", expectPattern: "^hello$")
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x, settings: settings)), .messageTimeout)
        #expect(cause.data["expect"] == "^hello$")
        #expect(cause.evidence == ["sent: hello", "no text message arrived"])
    }

    @Test("a reply not matching --expect is message-timeout, quoting the reply")
    func replyNoMatch() throws {
        var x = Fixture.exchange()
        x.sentText = "ping"
        x.reply = "error: unknown op"
        x.replyMatched = false
        let settings = ProbeSettingsSummary(sendText: "ping", expectPattern: "pong")
        let cause = try requireCause(SessionRules.exchange(Self.withExchange(x, settings: settings)), .messageTimeout)
        #expect(cause.summary.contains("/pong/"))
        #expect(cause.evidence.contains("last reply (not matching): error: unknown op"))
    }

    @Test("a matching reply passes with both round trips")
    func replyMatched() throws {
        var x = Fixture.exchange(rttMs: 2)
        x.sentText = "ping"
        x.reply = "pong"
        x.replyMatched = true
        x.replyRoundTripMs = 4
        let j = try requireNoCause(SessionRules.exchange(Self.withExchange(x)))
        #expect(j.stage.summary == "ping/pong 2.0 ms, reply in 4.0 ms")
        #expect(j.stage.details["reply"] == "pong")
    }

    @Test("the connection's end outranks a ping that timed out")
    func endBeforePing() throws {
        var x = Fixture.exchangeEnded(.eof(afterMs: 40))
        x.pingTimedOut = true
        try requireCause(SessionRules.exchange(Self.withExchange(x)), .abnormalClosure)
    }

    // MARK: idle

    @Test("cut after 60 s of silence: idle-timeout, nginx and AWS ALB named, high confidence, ping below 60 s")
    func idleTimeoutSixty() throws {
        let i = Fixture.idle(held: 60.3, silentAtEnd: 60.3, end: .eof(afterMs: 60_300))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .idleTimeout)
        #expect(cause.data["seconds"] == .number(60.3))
        #expect(cause.confidence == .high)
        let matchValues = try #require(cause.data["matches"]?.arrayValue)
        let matches = matchValues.compactMap(\.stringValue)
        #expect(matches.contains("nginx (proxy_read_timeout)"))
        #expect(matches.contains("AWS Application Load Balancer"))
        #expect(cause.summary.contains("nginx"))
        #expect(cause.summary.contains("AWS Application Load Balancer"))
        let ping = try #require(cause.data["recommendedPingIntervalSeconds"]?.numberValue)
        #expect(ping == 45)
        #expect(ping < 60.3)
        #expect(cause.fixes.first?.contains("every 45 s") == true)
        #expect(cause.fixes.contains { $0.contains("proxy_read_timeout") })
    }

    @Test("cut after 37 s: no known platform matches, medium confidence, still a ping below it")
    func idleTimeoutUnknown() throws {
        let i = Fixture.idle(held: 37, silentAtEnd: 37, end: .eof(afterMs: 37_000))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .idleTimeout)
        #expect(cause.data["seconds"] == .number(37))
        #expect(cause.data["matches"] == .strings([]))
        #expect(cause.confidence == .medium)
        let ping = try #require(cause.data["recommendedPingIntervalSeconds"]?.numberValue)
        #expect(ping < 37 && ping >= 1)
        #expect(cause.fixes.first?.contains("every \(Int(ping)) s") == true)
    }

    @Test("cut at an unknown time with nginx in the path: nginx is named, high confidence")
    func idleTimeoutSeenIntermediary() throws {
        let i = Fixture.idle(held: 37, silentAtEnd: 37, end: .reset(afterMs: 37_000))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i, serverHeader: "nginx/1.25.3")), .idleTimeout)
        #expect(cause.confidence == .high)
        #expect(cause.summary.contains("nginx"))
        #expect(cause.fixes.contains { $0.contains("proxy_read_timeout") })
    }

    @Test("the silence measured is what counts, not the time held")
    func silenceMeasured() throws {
        let i = Fixture.idle(held: 70, silentAtEnd: 60, end: .eof(afterMs: 70_000))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .idleTimeout)
        #expect(cause.data["seconds"] == .number(60))
    }

    @Test("a 1001 close after silence is idle-timeout, with the close code recorded")
    func goingAwayAfterSilence() throws {
        let i = Fixture.idle(held: 100.5, silentAtEnd: 100.5, end: .closeFrame(code: 1001, reason: "idle", afterMs: 100_500))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .idleTimeout)
        #expect(cause.data["closeCode"] == .int(1001))
        let matches = try #require(cause.data["matches"]?.arrayValue)
        #expect(matches.contains("Cloudflare"))
    }

    @Test("a 1008 close during idle is closed-by-server, not a timeout")
    func policyCloseDuringIdle() throws {
        let i = Fixture.idle(held: 30, silentAtEnd: 30, end: .closeFrame(code: 1008, reason: "session revoked", afterMs: 30_000))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .closedByServer)
        #expect(cause.data["code"] == .int(1008))
        #expect(cause.data["reason"] == "session revoked")
    }

    @Test("a protocol violation during idle is protocol-violation")
    func violationDuringIdle() throws {
        let i = Fixture.idle(held: 5, silentAtEnd: 5, end: .violation(rule: "bad-opcode", detail: "opcode 0x3", afterMs: 5000))
        let cause = try requireCause(SessionRules.idle(Self.withIdle(i)), .protocolViolation)
        #expect(cause.data["rule"] == "bad-opcode")
    }

    @Test("surviving the hold with no server ping for 20 s or more: no-server-keepalive warning, degraded")
    func noServerKeepalive() throws {
        let e = Self.withIdle(Fixture.idle(requested: 30, held: 30.02))
        let j = try requireNoCause(SessionRules.idle(e), status: .warning)
        #expect(j.findings.map(\.id) == ["no-server-keepalive"])
        #expect(j.findings.first?.severity == .warning)
        #expect(j.findings.first?.data["heldSeconds"] == .number(30))

        let report = Diagnoser.diagnose(e)
        #expect(report.cause.id == "healthy")
        #expect(report.outcome == .degraded)
        #expect(report.exitStatus == 0)
    }

    @Test("surviving the hold with server pings, or for less than 20 s, passes clean",
          arguments: [(30.0, 2), (10.0, 0)])
    func keepaliveFine(held: Double, pings: Int) throws {
        let e = Self.withIdle(Fixture.idle(requested: held, held: held, serverPings: pings))
        let j = try requireNoCause(SessionRules.idle(e))
        #expect(j.findings.isEmpty)
        #expect(Diagnoser.diagnose(e).outcome == .healthy)
    }

    // MARK: close

    static func judgeClose(_ c: CloseEvidence) throws -> StageJudgement {
        var e = Fixture.healthy()
        e.close = c
        return try #require(SessionRules.close(e))
    }

    @Test("a clean close started by the client passes")
    func cleanClose() throws {
        let j = try Self.judgeClose(Fixture.cleanClose())
        #expect(j.cause == nil)
        #expect(j.stage.status == .passed)
        #expect(j.findings.isEmpty)
        #expect(j.stage.details["code"] == .int(1000))
        #expect(j.stage.details["clean"] == true)
    }

    @Test("a close the server never answers: close-unanswered warning")
    func closeUnanswered() throws {
        var c = CloseEvidence(initiatedBy: .client, code: 1000, reason: "wsdoctor: done", clean: false)
        c.unanswered = true
        let j = try Self.judgeClose(c)
        #expect(j.cause == nil)
        #expect(j.stage.status == .warning)
        #expect(j.findings.map(\.id) == ["close-unanswered"])
        #expect(j.findings.first?.severity == .warning)
        var e = Fixture.healthy()
        e.close = c
        #expect(Diagnoser.diagnose(e).outcome == .degraded)
    }

    @Test("close answered but TCP left open: an info finding, the stage still passes")
    func closeNoTCPEnd() throws {
        let j = try Self.judgeClose(CloseEvidence(initiatedBy: .client, code: 1000, reason: "", clean: false))
        #expect(j.stage.status == .passed)
        #expect(j.findings.map(\.id) == ["close-no-tcp-end"])
        #expect(j.findings.first?.severity == .info)
    }

    @Test("a close started by the server passes and is described")
    func serverClose() throws {
        let j = try Self.judgeClose(CloseEvidence(initiatedBy: .server, code: 1001, reason: "restart", clean: true))
        #expect(j.stage.status == .passed)
        #expect(j.stage.details["initiatedBy"] == "server")
        #expect(j.stage.summary.contains("1001"))
    }

    @Test("a connection that ended without any close handshake fails the close stage")
    func noCloseHandshake() throws {
        let j = try Self.judgeClose(CloseEvidence(initiatedBy: .none, code: 1006, reason: "connection ended without a close frame",
                                                  clean: false))
        #expect(j.stage.status == .failed)
        #expect(j.stage.details["initiatedBy"] == "none")
    }
}
