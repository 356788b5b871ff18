import Foundation

/// Rules for the stages before any byte of HTTP: target, proxy, resolve, connect.
public enum ConnectionRules {
    public static func target(_ e: Evidence) -> StageJudgement {
        if let error = e.targetError {
            return StageJudgement(
                stage: .init(name: .target, status: .failed, durationMs: 0, summary: error),
                cause: CauseCatalogue.cause(.invalidTarget, summary: "The URL cannot be used as given: \(error).",
                                            evidence: ["\(error)"]))
        }
        guard let t = e.target else {
            return StageJudgement(stage: .init(name: .target, status: .skipped, durationMs: 0, summary: "no target"))
        }
        return StageJudgement(stage: .init(
            name: .target, status: .passed, durationMs: 0,
            summary: "\(t.secure ? "wss" : "ws") to \(t.host) port \(t.port), path \(t.pathOnly)",
            details: ["scheme": .string(t.secure ? "wss" : "ws"), "host": .string(t.host), "port": .int(t.port),
                      "path": .string(t.path)]))
    }

    public static func proxy(_ e: Evidence) -> StageJudgement {
        guard let p = e.proxy else {
            return StageJudgement(stage: .init(name: .proxy, status: .passed, durationMs: 0,
                                               summary: "no proxy: connecting directly"))
        }
        var details: [(String, JSONValue)] = [("url", .string(p.url)), ("source", .string(p.source))]
        if let s = p.connectStatus { details.append(("connectStatus", .int(s))) }
        let via = "proxy \(p.url) (from \(p.source))"
        if let failure = p.connectFailure {
            let why = p.answerFailure ?? describe(failure)
            return StageJudgement(
                stage: .init(name: .proxy, status: .failed, durationMs: p.durationMs, summary: "\(via): \(why)",
                             details: .object(details)),
                cause: CauseCatalogue.cause(
                    .proxyUnreachable, summary: "The proxy \(p.host):\(p.port) set by \(p.source) cannot be reached: \(why).",
                    evidence: ["connecting to \(p.host):\(p.port): \(why)"]))
        }
        if let status = p.connectStatus, status / 100 != 2 {
            let line = "CONNECT answered \(status) \(p.connectReason ?? "")".trimmingCharacters(in: .whitespaces)
            let judgement: Report.Cause
            if status == 407 {
                judgement = CauseCatalogue.cause(
                    .proxyAuthRequired, summary: "The proxy \(p.host):\(p.port) requires authentication (407).",
                    evidence: [line] + (p.responseHead.map { ["proxy answer: \($0.split(separator: "\r\n").first ?? "")"] } ?? []),
                    data: ["status": .int(status)])
            } else {
                judgement = CauseCatalogue.cause(
                    .proxyConnectDenied,
                    summary: "The proxy \(p.host):\(p.port) refused to open a tunnel to the server (\(status)): corporate proxies often allow CONNECT only to port 443 or block WebSocket hosts.",
                    evidence: [line], data: ["status": .int(status)])
            }
            return StageJudgement(stage: .init(name: .proxy, status: .failed, durationMs: p.durationMs,
                                               summary: "\(via): \(line)", details: .object(details)), cause: judgement)
        }
        if p.connectStatus == nil {
            let why = p.answerFailure ?? "no answer to CONNECT"
            return StageJudgement(
                stage: .init(name: .proxy, status: .failed, durationMs: p.durationMs, summary: "\(via): \(why)",
                             details: .object(details)),
                cause: CauseCatalogue.cause(.proxyUnreachable, confidence: .medium,
                                            summary: "The proxy \(p.host):\(p.port) did not answer the CONNECT request: \(why).",
                                            evidence: [why]))
        }
        return StageJudgement(stage: .init(name: .proxy, status: .passed, durationMs: p.durationMs,
                                           summary: "\(via): tunnel open (\(p.connectStatus!))", details: .object(details)))
    }

    public static func resolve(_ e: Evidence) -> StageJudgement? {
        if e.proxy != nil {
            return StageJudgement(stage: .init(name: .resolve, status: .skipped, durationMs: 0,
                                               summary: "the proxy resolves the host name"))
        }
        guard let r = e.resolve, let host = e.target?.host else { return nil }
        let addresses = r.ipv4 + r.ipv6
        let details: JSONValue = ["a": .strings(r.ipv4), "aaaa": .strings(r.ipv6)]
        switch r.failure {
        case .noSuchHost?, .noAddresses?:
            let what = r.failure == .noSuchHost ? "does not exist (NXDOMAIN)" : "exists but has no A or AAAA records"
            return StageJudgement(
                stage: .init(name: .resolve, status: .failed, durationMs: r.durationMs, summary: "\(host) \(what)", details: details),
                cause: CauseCatalogue.cause(.dnsNoSuchHost, summary: "The host name \(host) \(what).",
                                            evidence: ["resolving \(host): \(what)"]))
        case .timeout?:
            return StageJudgement(
                stage: .init(name: .resolve, status: .failed, durationMs: r.durationMs, summary: "no answer from the resolver", details: details),
                cause: CauseCatalogue.cause(.dnsFailure, summary: "Resolving \(host) did not finish within the timeout.",
                                            evidence: ["no DNS answer for \(host) in \(Int(r.durationMs)) ms"]))
        case .failure(let why)?:
            return StageJudgement(
                stage: .init(name: .resolve, status: .failed, durationMs: r.durationMs, summary: why, details: details),
                cause: CauseCatalogue.cause(.dnsFailure, summary: "Resolving \(host) failed: \(why).", evidence: [why]))
        case nil:
            let summary = r.literal ? "\(host) is an IP address" : "\(addresses.joined(separator: ", "))"
            return StageJudgement(stage: .init(name: .resolve, status: .passed, durationMs: r.durationMs, summary: summary,
                                               details: details))
        }
    }

    public static func connect(_ e: Evidence) -> StageJudgement? {
        guard let c = e.connect else { return nil }
        let attempts: JSONValue = .array(c.attempts.map {
            ["address": .string($0.address), "port": .int($0.port), "durationMs": .ms($0.durationMs),
             "error": $0.failure.map { .string(describe($0)) } ?? .null]
        })
        let what = c.viaProxy ? "the proxy" : "the server"
        if let address = c.connectedAddress {
            var findings: [Report.Finding] = []
            let failed = c.attempts.filter { $0.failure != nil }
            if !failed.isEmpty {
                findings.append(.init(
                    id: "some-addresses-failed", severity: .info, stage: .connect,
                    message: "\(failed.map { "\($0.address): \(describe($0.failure!))" }.joined(separator: "; ")); \(address) worked. Clients that try the failing address first may be slow to connect.",
                    data: ["failed": .strings(failed.map(\.address))]))
            }
            let ms = c.attempts.last?.durationMs ?? c.durationMs
            return StageJudgement(
                stage: .init(name: .connect, status: .passed, durationMs: c.durationMs,
                             summary: "TCP connected to \(what) at \(address) port \(c.port) in \(format(ms)) ms",
                             details: ["attempts": attempts]),
                findings: findings)
        }
        let failures = c.attempts.compactMap(\.failure)
        let id: CauseID
        if failures.contains(.refused) {
            id = .connectionRefused
        } else if failures.contains(.timeout) || failures.isEmpty {
            id = .connectTimeout
        } else if failures.contains(.unreachable) {
            id = .networkUnreachable
        } else {
            id = .connectTimeout
        }
        let lines = c.attempts.map { "\($0.address) port \($0.port): \(describe($0.failure ?? .timeout)) after \(format($0.durationMs)) ms" }
        let summary: String
        switch id {
        case .connectionRefused:
            summary = "Nothing accepts connections on port \(c.port) of \(e.target?.host ?? "the host") (connection refused): the service is down, listens on another port or interface, or a firewall rejects the connection."
        case .connectTimeout:
            summary = "Connecting to port \(c.port) got no answer: a firewall drops the packets, the address is wrong, or the host is down."
        default:
            summary = "There is no network route to \(e.target?.host ?? "the host")."
        }
        var data: JSONValue = ["port": .int(c.port)]
        if id == .networkUnreachable { data = ["port": .int(c.port), "addresses": .strings(c.attempts.map(\.address))] }
        return StageJudgement(
            stage: .init(name: .connect, status: .failed, durationMs: c.durationMs,
                         summary: lines.first ?? "no address to connect to", details: ["attempts": attempts]),
            cause: CauseCatalogue.cause(id, summary: summary, evidence: lines, data: data))
    }

    static func describe(_ failure: NetworkFailure) -> String {
        switch failure {
        case .refused: "connection refused"
        case .timeout: "timed out"
        case .unreachable: "network unreachable"
        case .reset: "connection reset"
        case .closed: "connection closed"
        case .other(let text): text
        }
    }

    static func format(_ ms: Double) -> String { String(format: "%.1f", ms) }
}
