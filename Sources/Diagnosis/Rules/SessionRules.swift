import Foundation

/// Rules for the life of an upgraded connection: exchange, idle hold, close.
public enum SessionRules {
    public static func exchange(_ e: Evidence) -> StageJudgement? {
        guard let x = e.exchange else { return nil }
        var details: [(String, JSONValue)] = [("pingRoundTripMs", x.pingRoundTripMs.map(JSONValue.ms) ?? .null)]
        if let sent = x.sentText { details.append(("sent", .string(sent))) }
        if let reply = x.reply { details.append(("reply", .string(String(reply.prefix(512))))) }
        if let rtt = x.replyRoundTripMs { details.append(("replyRoundTripMs", .ms(rtt))) }
        details.append(("serverPings", .int(x.serverPings)))
        details.append(("unsolicitedMessages", .int(x.unsolicitedMessages)))
        func failed(_ summary: String, _ cause: Report.Cause) -> StageJudgement {
            StageJudgement(stage: .init(name: .exchange, status: .failed, durationMs: x.durationMs, summary: summary,
                                        details: .object(details)), cause: cause)
        }
        if let end = x.end, let judged = ended(end, stage: .exchange, e: e) {
            return failed(judged.summary, judged.cause)
        }
        if x.pingTimedOut {
            return failed("no pong within \(DurationText.format(seconds: e.settings.timeoutSeconds))", CauseCatalogue.cause(
                .pingUnanswered,
                summary: "The server did not answer a ping within \(DurationText.format(seconds: e.settings.timeoutSeconds)). RFC 6455 requires a pong; without it, keepalive-based clients will consider the connection dead.",
                evidence: ["sent a ping frame; no pong in \(DurationText.format(seconds: e.settings.timeoutSeconds))"]
                    + (x.unsolicitedMessages > 0 ? ["\(x.unsolicitedMessages) other messages arrived meanwhile: the connection itself works"] : [])))
        }
        if x.replyTimedOut || x.replyMatched == false {
            let expect = e.settings.expectPattern.map { " matching /\($0)/" } ?? ""
            return failed("no reply\(expect) to the message sent", CauseCatalogue.cause(
                .messageTimeout,
                summary: "The server accepted the connection but sent no reply\(expect) to the message within \(DurationText.format(seconds: e.settings.timeoutSeconds)).",
                evidence: ["sent: \(x.sentText ?? "")"] + (x.reply.map { ["last reply (not matching): \($0.prefix(160))"] } ?? ["no text message arrived"]),
                data: ["expect": .optional(e.settings.expectPattern)]))
        }
        var parts: [String] = []
        if let rtt = x.pingRoundTripMs { parts.append(String(format: "ping/pong %.1f ms", rtt)) }
        if let rtt = x.replyRoundTripMs { parts.append(String(format: "reply in %.1f ms", rtt)) }
        return StageJudgement(stage: .init(name: .exchange, status: .passed, durationMs: x.durationMs,
                                           summary: parts.isEmpty ? "messages exchanged" : parts.joined(separator: ", "),
                                           details: .object(details)))
    }

    public static func idle(_ e: Evidence) -> StageJudgement? {
        guard let i = e.idle else { return nil }
        var details: [(String, JSONValue)] = [
            ("requestedSeconds", .number(i.requestedSeconds)), ("heldSeconds", .number(round1(i.heldSeconds))),
            ("serverPings", .int(i.serverPings)), ("messagesReceived", .int(i.messagesReceived)),
        ]
        let durationMs = i.heldSeconds * 1000
        if let end = i.end {
            let silent = round1(i.silentSecondsAtEnd ?? i.heldSeconds)
            details.append(("cutAfterSeconds", .number(silent)))
            let isQuietClose: Bool = {
                if case .closeFrame(let code, _, _) = end { return code == nil || code == 1000 || code == 1001 }
                return false
            }()
            switch end {
            case .eof, .reset:
                return idleTimeout(e, i, silent: silent, end: end, details: details, durationMs: durationMs)
            case .closeFrame where isQuietClose && silent >= 1:
                return idleTimeout(e, i, silent: silent, end: end, details: details, durationMs: durationMs)
            default:
                if let judged = ended(end, stage: .idle, e: e) {
                    return StageJudgement(stage: .init(name: .idle, status: .failed, durationMs: durationMs,
                                                       summary: judged.summary, details: .object(details)), cause: judged.cause)
                }
            }
        }
        var findings: [Report.Finding] = []
        if i.serverPings == 0, i.heldSeconds >= 20 {
            findings.append(.init(
                id: "no-server-keepalive", severity: .warning, stage: .idle,
                message: "the server sent no ping in \(Int(i.heldSeconds)) s of silence: idle connections depend on every proxy's timeout; send pings (or application heartbeats) every 20–30 s",
                data: ["heldSeconds": .number(round1(i.heldSeconds))]))
        }
        let pings = i.serverPings == 0 ? "no server pings" : "\(i.serverPings) server ping\(i.serverPings == 1 ? "" : "s")"
        return StageJudgement(stage: .init(name: .idle, status: findings.isEmpty ? .passed : .warning, durationMs: durationMs,
                                           summary: "stayed open \(DurationText.format(seconds: i.heldSeconds)) while silent (\(pings))",
                                           details: .object(details)), findings: findings)
    }

    private static func idleTimeout(_ e: Evidence, _ i: IdleEvidence, silent: Double, end: ConnectionEnd,
                                    details: [(String, JSONValue)], durationMs: Double) -> StageJudgement {
        let platforms = PlatformIdleTimeouts.matches(measuredSeconds: silent)
        let ping = PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: silent)
        // Intermediaries seen in the handshake answer are the likely cutters, whatever their setting.
        let seen = ServerFingerprints.identify(headers: e.handshake?.response?.headers ?? [])
        let seenPlatforms = PlatformIdleTimeouts.all.filter { p in
            let product = p.name.split(separator: " ").first.map { $0.lowercased() } ?? ""
            return seen.contains { $0.name.split(separator: " ").first.map { $0.lowercased() } == product }
                && !platforms.contains(p)
        }
        let how: String
        var code: JSONValue = .null
        switch end {
        case .closeFrame(let c, _, _):
            how = "the server closed with code \(c.map(String.init) ?? "none")"
            code = c.map { .int($0) } ?? .null
        case .reset: how = "TCP reset without a close frame"
        default: how = "TCP FIN without a close frame"
        }
        var matchText = platforms.isEmpty ? "" : " This matches the default of \(platforms.map { "\($0.name) (\(Int($0.defaultSeconds)) s)" }.joined(separator: ", "))."
        if platforms.isEmpty, let first = seen.first {
            matchText = " \(first.name) is in the path (\(first.evidence)): its timeout is set to about \(Int(silent.rounded())) s."
        }
        var fixes = ["Send a WebSocket ping (or an application heartbeat) every \(Int(ping)) s or less"]
        fixes += (platforms + seenPlatforms).map { "Or raise the timeout of \($0.name): \($0.setting)" }
        fixes.append("Clients: reconnect automatically with backoff and resume from the last message received")
        var evidence = ["no frame for \(String(format: "%.1f", silent)) s, then \(how)"]
        for s in seen { evidence.append("\(s.name) is in the path (\(s.evidence))") }
        if i.serverPings > 0 { evidence.append("\(i.serverPings) server ping(s) arrived before the cut") }
        let data: JSONValue = [
            "seconds": .number(silent), "recommendedPingIntervalSeconds": .number(ping),
            "matches": .strings(platforms.map(\.name)), "closeCode": code,
        ]
        return StageJudgement(
            stage: .init(name: .idle, status: .failed, durationMs: durationMs,
                         summary: "cut after \(String(format: "%.1f", silent)) s of silence (\(how))", details: .object(details)),
            cause: CauseCatalogue.cause(
                .idleTimeout,
                title: "A proxy or load balancer cuts idle connections after \(Int(silent.rounded())) s",
                summary: "The connection was cut after \(String(format: "%.1f", silent)) s without traffic.\(matchText) Send a ping every \(Int(ping)) s or less to keep it open.",
                confidence: platforms.isEmpty && seen.isEmpty ? .medium : .high, fixes: fixes, catalogueFixes: false,
                evidence: evidence, data: data))
    }

    /// How a connection's end during a stage reads as a cause.
    static func ended(_ end: ConnectionEnd, stage: StageName, e: Evidence) -> (summary: String, cause: Report.Cause)? {
        switch end {
        case .violation(let rule, let detail, let afterMs):
            return ("protocol violation: \(rule)", CauseCatalogue.cause(
                .protocolViolation, summary: "The server's frames break RFC 6455: \(detail). Browsers close such connections with 1002 (seen as 1006 by some).",
                evidence: ["\(detail), \(Int(afterMs)) ms after the upgrade"], data: ["rule": .string(rule)]))
        case .closeFrame(let code, let reason, let afterMs):
            let info = code.flatMap { CloseCodes.info($0) }
            let meaning = info.map { "\($0.name): \($0.meaning)" } ?? "no status code"
            return ("closed by the server with \(code.map(String.init) ?? "no code")", CauseCatalogue.cause(
                .closedByServer,
                title: "The server closed the connection (\(code.map(String.init) ?? "no code")\(info.map { " \($0.name)" } ?? ""))",
                summary: "The server sent a close frame \(Int(afterMs)) ms after the upgrade, during the \(stage.rawValue) stage: \(meaning)\(reason.isEmpty ? "" : " Reason: \"\(reason)\"").",
                fixes: info?.fixes ?? [],
                evidence: ["close frame: code \(code.map(String.init) ?? "none"), reason \"\(reason)\", \(Int(afterMs)) ms after the upgrade"],
                data: ["code": code.map { .int($0) } ?? .null, "reason": .string(reason), "meaning": .optional(info?.meaning)]))
        case .eof(let afterMs), .reset(let afterMs):
            let how = if case .reset = end { "reset" } else { "closed (FIN)" }
            return ("TCP \(how) without a close frame after \(Int(afterMs)) ms", CauseCatalogue.cause(
                .abnormalClosure,
                summary: "The connection was \(how) \(Int(afterMs)) ms after the upgrade without a close frame — what browsers report as 1006. Something between (or the server process) dropped it.",
                evidence: ["TCP \(how) \(Int(afterMs)) ms after 101, no close frame"],
                data: ["afterMs": .ms(afterMs)]))
        }
    }

    public static func close(_ e: Evidence) -> StageJudgement? {
        guard let c = e.close else { return nil }
        var findings: [Report.Finding] = []
        let who = c.initiatedBy.rawValue
        var summary: String
        switch c.initiatedBy {
        case .client:
            summary = c.unanswered ? "sent close \(c.code ?? 1000); the server never answered it"
                : "sent close 1000, server answered \(c.code.map(String.init) ?? "none")\(c.clean ? ", clean" : "")"
            if c.unanswered {
                findings.append(.init(id: "close-unanswered", severity: .warning, stage: .close,
                                      message: "the server did not answer the close frame; clients will wait for their close timeout",
                                      data: [:]))
            } else if !c.clean {
                findings.append(.init(id: "close-no-tcp-end", severity: .info, stage: .close,
                                      message: "after the close handshake the server kept the TCP connection open; RFC 6455 asks the server to close it first",
                                      data: [:]))
            }
        case .server:
            summary = "the server closed with \(c.code.map(String.init) ?? "no code")\(c.reason.isEmpty ? "" : " \"\(c.reason)\"")"
        case .none:
            summary = "the connection ended without a close handshake"
        }
        let status: Report.Stage.Status = c.initiatedBy == .none ? .failed : (findings.contains { $0.severity == .warning } ? .warning : .passed)
        return StageJudgement(stage: .init(name: .close, status: status, durationMs: c.durationMs, summary: summary,
                                           details: ["initiatedBy": .string(who), "code": c.code.map { .int($0) } ?? .null,
                                                     "reason": .string(c.reason), "clean": .bool(c.clean)]),
                              findings: findings)
    }

    static func round1(_ v: Double) -> Double { (v * 10).rounded() / 10 }
}
