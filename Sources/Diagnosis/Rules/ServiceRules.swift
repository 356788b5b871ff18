import Foundation

/// Rules for the plain-HTTP side of the service: health and the fallback transports.
/// They never name the primary cause; they tell whether the app can still be served.
public enum ServiceRules {
    public static func health(_ e: Evidence) -> StageJudgement? {
        guard let h = e.health else { return nil }
        let duration = h.checks.reduce(0) { $0 + $1.durationMs }
        let details: JSONValue = .array(h.checks.map {
            ["url": .string($0.url), "status": $0.response.map { .int($0.status) } ?? .null,
             "server": .optional($0.response?.header("Server")), "error": .optional($0.failure)]
        })
        if let ok = h.healthy, let r = ok.response {
            let server = r.header("Server").map { ", Server: \($0)" } ?? ""
            return StageJudgement(stage: .init(name: .health, status: .passed, durationMs: duration,
                                               summary: "\(ok.url) answered \(r.status)\(server)", details: ["checks": details]))
        }
        if let failing = h.checks.first(where: { ($0.response?.status ?? 0) >= 500 }), let r = failing.response {
            return StageJudgement(
                stage: .init(name: .health, status: .warning, durationMs: duration,
                             summary: "\(failing.url) answered \(r.status) \(r.reason)", details: ["checks": details]),
                findings: [.init(id: "health-check-failing", severity: .warning, stage: .health,
                                 message: "the service's health check answers \(r.status): the service itself may be failing",
                                 data: ["url": .string(failing.url), "status": .int(r.status)])])
        }
        if h.anyHTTPAnswer {
            return StageJudgement(stage: .init(
                name: .health, status: .passed, durationMs: duration,
                summary: "the server answers HTTP (no health endpoint: \(h.checks.compactMap { $0.response.map { "\($0.status)" } }.joined(separator: ", ")))",
                details: ["checks": details]))
        }
        let why = h.checks.compactMap(\.failure).first ?? "no answer"
        return StageJudgement(
            stage: .init(name: .health, status: .warning, durationMs: duration, summary: "plain HTTP failed: \(why)",
                         details: ["checks": details]),
            findings: [.init(id: "health-unreachable", severity: .warning, stage: .health,
                             message: "plain HTTP to the service failed: \(why)", data: [:])])
    }

    public static func fallback(_ e: Evidence, webSocketWorks: Bool) -> StageJudgement? {
        guard let f = e.fallback, f.sse != nil || f.poll != nil else { return nil }
        let checks = [("SSE", f.sse), ("long-polling", f.poll)].compactMap { name, c in c.map { (name, $0) } }
        let working = checks.filter { $0.1.works }.map(\.0)
        let broken = checks.filter { !$0.1.works }
        var findings: [Report.Finding] = broken.map { name, c in
            .init(id: "fallback-not-working", severity: .warning, stage: .fallback,
                  message: "\(name) at \(c.url) does not work: \(c.detail)",
                  data: ["transport": .string(name), "url": .string(c.url), "status": c.status.map { .int($0) } ?? .null])
        }
        if !webSocketWorks {
            if working.isEmpty {
                findings.append(.init(id: "no-transport-works", severity: .error, stage: .fallback,
                                       message: "neither WebSocket nor any fallback transport works: clients on this network get no realtime updates",
                                       data: [:]))
            } else {
                findings.append(.init(id: "fallback-available", severity: .info, stage: .fallback,
                                       message: "WebSocket fails, but \(working.joined(separator: " and ")) \(working.count > 1 ? "work" : "works"): the app can still be served through a fallback",
                                       data: ["transports": .strings(working)]))
            }
        }
        let details: JSONValue = [
            "discovered": .bool(f.discovered),
            "transports": .array(checks.map { name, c in
                ["name": .string(name), "url": .string(c.url), "works": .bool(c.works),
                 "status": c.status.map { .int($0) } ?? .null, "durationMs": .ms(c.durationMs), "detail": .string(c.detail)]
            }),
        ]
        let summary = checks.map { "\($0.0) \($0.1.works ? "works" : "fails")" }.joined(separator: ", ")
        return StageJudgement(stage: .init(name: .fallback, status: broken.isEmpty ? .passed : .warning,
                                           durationMs: f.durationMs, summary: summary, details: details),
                              findings: findings)
    }
}
