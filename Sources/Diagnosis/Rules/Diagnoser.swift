import Foundation

/// Evidence in, report out: runs each stage's rules in order and names the first
/// cause found as the primary one. Pure: the same evidence always gives the same report.
public enum Diagnoser {
    public static func diagnose(_ e: Evidence) -> Report {
        var judgements: [StageName: StageJudgement] = [:]
        let target = ConnectionRules.target(e)
        judgements[.target] = target
        if e.targetError == nil {
            judgements[.proxy] = ConnectionRules.proxy(e)
            judgements[.resolve] = ConnectionRules.resolve(e)
            judgements[.connect] = ConnectionRules.connect(e)
            if let tls = e.tls, let t = e.target {
                judgements[.tls] = TLSRules.judge(tls, target: t, insecure: e.settings.insecure)
            }
            judgements[.health] = ServiceRules.health(e)
            judgements[.handshake] = HandshakeRules.judge(e)
            judgements[.exchange] = SessionRules.exchange(e)
            judgements[.idle] = SessionRules.idle(e)
            judgements[.close] = SessionRules.close(e)
        }
        var cause: Report.Cause?
        var causeStage: StageName?
        for name in StageName.allCases {
            if cause == nil, let c = judgements[name]?.cause {
                cause = c
                causeStage = name
            }
        }
        judgements[.fallback] = ServiceRules.fallback(e, webSocketWorks: cause == nil)

        var stages: [Report.Stage] = []
        var findings: [Report.Finding] = []
        for name in StageName.allCases {
            if let j = judgements[name] {
                stages.append(j.stage)
                findings += j.findings
                // A later stage's cause (seen with --insecure) is reported, not lost.
                if let c = j.cause, name != causeStage {
                    findings.append(.init(id: c.id, severity: .error, stage: name, message: c.summary, data: c.data))
                }
            } else {
                stages.append(.init(name: name, status: .skipped, durationMs: 0, summary: skipReason(name, e: e, failed: causeStage)))
            }
        }
        let primary = cause ?? healthy(e)
        var finalCause = primary
        if cause != nil, let f = findings.first(where: { $0.id == "fallback-available" }) {
            finalCause.summary += " " + f.message.prefix(1).uppercased() + f.message.dropFirst() + "."
        }
        let outcome: Report.Outcome
        if cause != nil {
            outcome = .failed
        } else if findings.contains(where: { $0.severity != .info }) || stages.contains(where: { $0.status == .warning }) {
            outcome = .degraded
        } else {
            outcome = .healthy
        }
        let t = e.target
        var transcript = Report.Transcript(request: e.handshake?.request, response: e.handshake?.response?.raw)
        if transcript.response == nil, let failure = e.handshake?.failure, case .notHTTP(let banner) = failure {
            transcript.response = banner
        }
        let close = e.close.map {
            Report.Close(code: $0.code, reason: $0.reason, initiatedBy: $0.initiatedBy.rawValue, clean: $0.clean)
        } ?? Report.Close(code: nil, reason: "", initiatedBy: "none", clean: false)
        return Report(
            tool: .init(name: ToolInfo.name, version: ToolInfo.version),
            target: .init(url: t?.url ?? e.settings.rawURL, host: t?.host, port: t?.port, secure: t?.secure, path: t?.path),
            startedAt: Timestamp.rfc3339(e.startedAt), durationMs: (e.durationMs * 10).rounded() / 10, outcome: outcome,
            cause: finalCause, findings: findings, stages: stages, transcript: transcript, close: close)
    }

    private static func healthy(_ e: Evidence) -> Report.Cause {
        var evidence: [String] = []
        if let r = e.handshake?.response { evidence.append("upgrade answered \(r.status) \(r.reason) with a valid accept key") }
        if let rtt = e.exchange?.pingRoundTripMs { evidence.append(String(format: "ping/pong round trip %.1f ms", rtt)) }
        if let i = e.idle { evidence.append("stayed open \(DurationText.format(seconds: i.heldSeconds)) while silent") }
        if let c = e.close { evidence.append("close handshake \(c.clean ? "clean" : "completed") (\(c.code.map(String.init) ?? "-"))") }
        return CauseCatalogue.cause(.healthy, evidence: evidence)
    }

    private static func skipReason(_ name: StageName, e: Evidence, failed: StageName?) -> String {
        switch name {
        case .idle where e.settings.idleSeconds == 0 && failed == nil: return "not requested (use --idle 75s to test idle timeouts)"
        case .health where e.settings.healthDisabled: return "disabled with --health none"
        case .fallback where e.fallback?.sse == nil && e.fallback?.poll == nil:
            return "no fallback endpoints known (use --sse / --poll)"
        case .tls where !(e.target?.secure ?? false): return "not a wss:// URL"
        default: return failed.map { "skipped: the \($0.rawValue) stage failed" } ?? "skipped"
        }
    }
}

public enum Timestamp {
    /// RFC 3339 UTC with milliseconds, as every report and API of wsdoctor writes times.
    public static func rfc3339(_ date: Date) -> String {
        Date.ISO8601FormatStyle(includingFractionalSeconds: true).format(date)
    }
}
