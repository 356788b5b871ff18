import Foundation

/// Rules for the opening handshake: what the answer to the upgrade request proves.
/// Suspicions are confirmed before accusing (see `Confirmations`).
public enum HandshakeRules {
    public static func judge(_ e: Evidence) -> StageJudgement? {
        guard let h = e.handshake else { return nil }
        let secure = e.target?.secure ?? false
        let timeout = e.settings.timeoutSeconds
        var details: [(String, JSONValue)] = []
        if let r = h.response {
            details.append(("status", .int(r.status)))
            details.append(("reason", .string(r.reason)))
        }
        func failed(_ summary: String, _ cause: Report.Cause, findings: [Report.Finding] = []) -> StageJudgement {
            StageJudgement(stage: .init(name: .handshake, status: .failed, durationMs: h.durationMs, summary: summary,
                                        details: .object(details)), cause: cause, findings: findings)
        }

        if let failure = h.failure {
            if e.confirmations.speaksTLS == true {
                return failed("the port speaks TLS", CauseCatalogue.cause(
                    .plaintextToTLSServer,
                    summary: "ws:// was used, but the port speaks TLS: a TLS handshake on it succeeds. Use wss:// for this port.",
                    fixes: ["use \(e.target.map { "wss://\($0.hostHeader)\($0.path)" } ?? "wss://")"],
                    evidence: ["the plaintext upgrade request got \(HandshakeRules.describe(failure))",
                               "a TLS handshake on the same port succeeded"]))
            }
            switch failure {
            case .timeout(let n):
                let what = n == 0 ? "no answer" : "only \(n) bytes of an answer"
                return failed("\(what) within \(DurationText.format(seconds: timeout))", CauseCatalogue.cause(
                    .handshakeTimeout,
                    summary: "The TCP\(secure ? "/TLS" : "") connection opened, but the upgrade request got \(what) within \(DurationText.format(seconds: timeout)).",
                    evidence: ["sent the upgrade request; \(what) in \(DurationText.format(seconds: timeout))"]
                        + (n > 0 ? ["the server trickled its answer too slowly to complete"] : []),
                    data: ["bytesReceived": .int(n), "timeoutSeconds": .number(timeout)]))
            case .closed(let n), .reset(let n):
                let how = if case .reset = failure { "reset the connection" } else { "closed the connection" }
                return failed("the server \(how) without answering", CauseCatalogue.cause(
                    .abnormalClosure,
                    title: "The server \(how) before answering the upgrade",
                    summary: "The connection ended \(n == 0 ? "without any" : "after \(n) bytes of an incomplete") answer to the upgrade request; browsers report this as close code 1006.",
                    evidence: ["the server \(how) \(Int(h.durationMs)) ms after the upgrade request, no HTTP answer"],
                    data: ["afterMs": .ms(h.durationMs), "stage": "handshake"]))
            case .notHTTP(let banner):
                return failed("the port does not speak HTTP", CauseCatalogue.cause(
                    .notHTTP, summary: "The port answered with something that is not HTTP: \(banner.prefix(80))",
                    evidence: ["first bytes: \(banner)"], data: ["banner": .string(String(banner.prefix(120)))]))
            case .tlsAnswer:
                return failed("the port answered with TLS", CauseCatalogue.cause(
                    .plaintextToTLSServer,
                    summary: "ws:// was used, but the port speaks TLS: use wss:// for this port.",
                    fixes: ["use \(e.target.map { "wss://\($0.hostHeader)\($0.path)" } ?? "wss://")"],
                    evidence: ["the answer to a plaintext HTTP request started with a TLS record"]))
            case .headTooLarge(let n):
                return failed("the response head grew past \(n) bytes", CauseCatalogue.cause(
                    .notHTTP, confidence: .medium,
                    summary: "The answer's HTTP head never ended: \(n) bytes of headers arrived without the blank line that ends them.",
                    evidence: ["response head exceeded \(n) bytes"], data: ["headBytes": .int(n)]))
            }
        }
        guard let r = h.response else { return nil }
        let statusLine = "\(r.status) \(r.reason)".trimmingCharacters(in: .whitespaces)
        let intermediaries = ServerFingerprints.identify(headers: r.headers)
        let via = intermediaries.first
        if !intermediaries.isEmpty {
            details.append(("intermediaries", .strings(intermediaries.map(\.name))))
        }
        let statusEvidence = "the upgrade request was answered \(statusLine)"
            + (via.map { " (\($0.evidence))" } ?? "")
        let data: JSONValue = ["status": .int(r.status)]
        var findings: [Report.Finding] = []
        if h.durationMs > 1000 {
            findings.append(.init(id: "slow-handshake", severity: .warning, stage: .handshake,
                                  message: "the handshake took \(Int(h.durationMs)) ms", data: ["durationMs": .ms(h.durationMs)]))
        }

        switch r.status {
        case 101:
            return upgraded(e, h, r, details: details, findings: findings)
        case 200...299:
            let type = r.header("Content-Type") ?? "no Content-Type"
            return failed(statusLine, CauseCatalogue.cause(
                .upgradeIgnored,
                summary: "The path answered \(statusLine) with \(type) instead of 101 Switching Protocols: something in front of the WebSocket handler (a catch-all or SPA route, static files, a middleware, or a proxy that dropped the upgrade) served an ordinary page.",
                evidence: [statusEvidence, "Content-Type: \(type)"] + snippetEvidence(h.bodySnippet),
                data: data), findings: findings)
        case 300...399:
            let location = r.header("Location") ?? ""
            return failed(statusLine + (location.isEmpty ? "" : " → \(location)"), CauseCatalogue.cause(
                .redirect,
                summary: "The server redirects (\(r.status)) to \(location.isEmpty ? "another URL" : location); WebSocket clients do not follow redirects.",
                fixes: location.isEmpty ? [] : ["connect to the final URL directly: \(webSocketURL(for: location, base: e.target))"],
                evidence: [statusEvidence] + (location.isEmpty ? [] : ["Location: \(location)"]),
                data: ["status": .int(r.status), "location": .string(location)]), findings: findings)
        case 400, 426:
            return strippedOrRejected(e, h, r, statusLine: statusLine, statusEvidence: statusEvidence, via: via,
                                      details: details, findings: findings)
        case 401:
            return failed(statusLine, CauseCatalogue.cause(
                .authRequired, summary: "The server wants credentials for this WebSocket (401).",
                evidence: [statusEvidence] + (r.header("WWW-Authenticate").map { ["WWW-Authenticate: \($0)"] } ?? []),
                data: data), findings: findings)
        case 403:
            if h.origin != nil, let retry = e.confirmations.withoutOrigin {
                if retry.response?.status == 101 {
                    return failed(statusLine, CauseCatalogue.cause(
                        .originRejected,
                        summary: "The server refuses the Origin \(h.origin!): the same request without Origin was upgraded (101).",
                        fixes: ["add \(h.origin!) to the server's allowed origins (CheckOrigin in gorilla/websocket, `origins` in socket.io, `verifyClient` in ws)"],
                        evidence: [statusEvidence + " with Origin: \(h.origin!)", "the same request without Origin was answered 101"],
                        data: ["status": .int(r.status), "origin": .string(h.origin!)]), findings: findings)
                }
                let retryStatus = retry.response.map { "\($0.status)" } ?? "no answer"
                return failed(statusLine, CauseCatalogue.cause(
                    .authRequired, confidence: .medium,
                    summary: "The server forbids this WebSocket (403) with or without Origin: credentials (a cookie or token) are probably missing or not allowed.",
                    evidence: [statusEvidence, "without Origin: \(retryStatus)"], data: data), findings: findings)
            }
            return failed(statusLine, CauseCatalogue.cause(
                .authRequired, confidence: .medium,
                summary: "The server forbids this WebSocket (403): missing or insufficient credentials, or an origin/IP policy. Browsers always send Origin; try --origin to test that.",
                evidence: [statusEvidence], data: data), findings: findings)
        case 404:
            return failed(statusLine, CauseCatalogue.cause(
                .routeNotFound, summary: "There is no WebSocket route at \(e.target?.pathOnly ?? "this path") (404)" + (via.map { "; the 404 came from \($0.name)" } ?? "") + ".",
                evidence: [statusEvidence] + snippetEvidence(h.bodySnippet), data: data), findings: findings)
        case 405:
            return failed(statusLine, CauseCatalogue.cause(
                .methodNotAllowed, summary: "GET is not allowed on this path (405): the route exists but is registered for another method, or a proxy blocks GET with Upgrade.",
                evidence: [statusEvidence] + (r.header("Allow").map { ["Allow: \($0)"] } ?? []), data: data), findings: findings)
        case 407:
            return failed(statusLine, CauseCatalogue.cause(
                .proxyAuthRequired, summary: "An HTTP proxy in the path asked for authentication (407).",
                evidence: [statusEvidence], data: data), findings: findings)
        case 500, 501:
            let plainWorks = (e.health?.healthy != nil)
                || ((e.confirmations.plainGet?.response?.status).map { $0 < 500 } ?? false)
            let hijack = (h.bodySnippet ?? "").lowercased().contains("hijack")
            if plainWorks || hijack {
                var ev = [statusEvidence]
                if let healthy = e.health?.healthy, let s = healthy.response {
                    ev.append("plain HTTP works: \(healthy.url) answered \(s.status)")
                }
                if let plain = e.confirmations.plainGet?.response { ev.append("a plain GET of the same path answered \(plain.status)") }
                if hijack { ev.append("the error body mentions Hijacker: \((h.bodySnippet ?? "").prefix(160))") }
                return failed(statusLine, CauseCatalogue.cause(
                    .middlewareBlocksUpgrade, confidence: hijack ? .high : .medium,
                    summary: "Plain HTTP works, but the upgrade itself fails with \(r.status): typically a middleware (logging, metrics, compression, timeout) wraps the response writer and cannot hand the connection over — Go's \"response does not implement http.Hijacker\".",
                    evidence: ev, data: data), findings: findings)
            }
            return failed(statusLine, CauseCatalogue.cause(
                .serverError, summary: "The server failed the upgrade with \(statusLine).",
                evidence: [statusEvidence] + snippetEvidence(h.bodySnippet), data: data), findings: findings)
        case 502, 504:
            return failed(statusLine, CauseCatalogue.cause(
                .badGateway,
                summary: "\(via?.name ?? "A proxy or load balancer") answered \(statusLine): the backend behind it is down, refused the connection, or was too slow.",
                evidence: [statusEvidence] + snippetEvidence(h.bodySnippet), data: data), findings: findings)
        case 503:
            return failed(statusLine, CauseCatalogue.cause(
                .serviceUnavailable, summary: "The service is unavailable (503): overloaded, in maintenance, or WebSockets are disabled on the platform.",
                evidence: [statusEvidence] + (r.header("Retry-After").map { ["Retry-After: \($0)"] } ?? []), data: data),
                findings: findings)
        case 500...599:
            return failed(statusLine, CauseCatalogue.cause(
                .serverError, summary: "The server failed the upgrade with \(statusLine).",
                evidence: [statusEvidence] + snippetEvidence(h.bodySnippet), data: data), findings: findings)
        case 400...499:
            if r.status == 429 {
                return failed(statusLine, CauseCatalogue.cause(
                    .handshakeRejected, title: "The server rate-limits WebSocket connections (429)",
                    summary: "Too many connection attempts (429): clients reconnecting without backoff are the usual reason.",
                    fixes: ["reconnect with exponential backoff and jitter", "honour Retry-After"],
                    evidence: [statusEvidence] + (r.header("Retry-After").map { ["Retry-After: \($0)"] } ?? []), data: data),
                    findings: findings)
            }
            return failed(statusLine, CauseCatalogue.cause(
                .handshakeRejected, summary: "The server rejected the upgrade with \(statusLine).",
                evidence: [statusEvidence] + snippetEvidence(h.bodySnippet), data: data), findings: findings)
        default:
            return failed(statusLine, CauseCatalogue.cause(
                .invalidUpgradeResponse, summary: "The server answered \(statusLine), which is not a WebSocket upgrade.",
                evidence: [statusEvidence], data: data), findings: findings)
        }
    }

    /// 400 and 426 are what WebSocket servers answer to a GET without upgrade headers.
    /// Accuse a stripping proxy only when the evidence says the headers did not arrive.
    private static func strippedOrRejected(
        _ e: Evidence, _ h: HandshakeEvidence, _ r: ResponseHead, statusLine: String, statusEvidence: String,
        via: Intermediary?, details: [(String, JSONValue)], findings: [Report.Finding]
    ) -> StageJudgement {
        func result(_ cause: Report.Cause) -> StageJudgement {
            StageJudgement(stage: .init(name: .handshake, status: .failed, durationMs: h.durationMs, summary: statusLine,
                                        details: .object(details)), cause: cause, findings: findings)
        }
        let body = (h.bodySnippet ?? "").lowercased()
        let data: JSONValue = ["status": .int(r.status)] + (via.map { ["intermediary": .string($0.name)] } ?? [:])
        let viaText = via.map { " \($0.name) (\($0.evidence)) is in the path." } ?? ""
        // The identified product's own configuration first; the catalogue's line for the
        // same product would only repeat it.
        let fixes: [String] = via.map { v in
            [v.websocketConfigHint.lowercased().hasPrefix(v.name.lowercased()) ? v.websocketConfigHint
                : "\(v.name): \(v.websocketConfigHint)"] + CauseCatalogue.entry(.upgradeHeadersStripped).fixes.filter {
                !$0.lowercased().hasPrefix(v.name.lowercased())
            }
        } ?? CauseCatalogue.entry(.upgradeHeadersStripped).fixes
        // nginx answers plain HTTP on a TLS port with this exact page.
        if !(e.target?.secure ?? true), body.contains("plain http request was sent to https port") {
            return result(CauseCatalogue.cause(
                .plaintextToTLSServer, summary: "ws:// was used, but the port expects TLS: use wss://.",
                evidence: [statusEvidence, "the error page says: The plain HTTP request was sent to HTTPS port"]))
        }
        // The wsdoctor server's own log is the strongest evidence there is.
        if let seen = e.confirmations.serverView {
            let upgradeArrived = seen.upgrade?.lowercased().contains("websocket") ?? false
            let connectionArrived = seen.connection?.lowercased().contains("upgrade") ?? false
            if !upgradeArrived || !connectionArrived {
                let missing = [upgradeArrived ? nil : "Upgrade", connectionArrived ? nil : "Connection: Upgrade"].compactMap { $0 }
                return result(CauseCatalogue.cause(
                    .upgradeHeadersStripped,
                    summary: "The request left here with Upgrade: websocket and Connection: Upgrade, but the server received it without \(missing.joined(separator: " and ")): a proxy in between dropped the hop-by-hop headers.\(viaText)",
                    fixes: fixes, catalogueFixes: false,
                    evidence: [statusEvidence, "the server's handshake log shows the request arrived without \(missing.joined(separator: " and "))"]
                        + (seen.via || seen.forwardedFor ? ["the request reached the server through a proxy (Via/X-Forwarded-For present)"] : []),
                    data: data))
            }
            return result(CauseCatalogue.cause(
                .handshakeRejected,
                summary: "The upgrade headers reached the server, which rejected the request with \(statusLine).",
                evidence: [statusEvidence, "the server's handshake log shows Upgrade and Connection arrived"] + snippetEvidence(h.bodySnippet),
                data: ["status": .int(r.status)]))
        }
        // 426 with a version list is a version refusal, not stripped headers.
        if r.status == 426, let versions = r.header("Sec-WebSocket-Version"), !versions.contains("13") {
            return result(CauseCatalogue.cause(
                .handshakeRejected, summary: "The server does not support WebSocket version 13; it offers \(versions).",
                evidence: [statusEvidence, "Sec-WebSocket-Version: \(versions)"], data: ["status": .int(r.status)]))
        }
        var ev = [statusEvidence]
        let mentionsUpgrade = ["upgrade", "websocket protocol", "not a websocket", "can \"upgrade\" only", "connection header",
                               "expected websocket"].contains { body.contains($0) }
        if mentionsUpgrade { ev.append("the error body says: \(h.bodySnippet!.prefix(160))") }
        var confidence: Report.Confidence = r.status == 426 || mentionsUpgrade ? .high : .medium
        if let plain = e.confirmations.plainGet?.response {
            if plain.status == r.status {
                ev.append("a plain GET without upgrade headers gets the same \(plain.status): the server cannot tell the two apart")
            } else {
                // The server answered the upgrade differently from a plain GET: it saw the headers.
                return result(CauseCatalogue.cause(
                    .handshakeRejected,
                    summary: "The server rejected the upgrade with \(statusLine), while a plain GET gets \(plain.status): the upgrade headers arrived and something else in the request was refused.",
                    evidence: [statusEvidence, "a plain GET of the same path answered \(plain.status)"] + snippetEvidence(h.bodySnippet),
                    data: ["status": .int(r.status)]))
            }
        } else if !mentionsUpgrade && r.status == 400 {
            confidence = .low
        }
        if via != nil { ev.append("\(via!.name) is in front of the server: \(via!.evidence)") }
        return result(CauseCatalogue.cause(
            .upgradeHeadersStripped, confidence: confidence,
            summary: "The server answered \(statusLine) as it would to a plain GET: the Upgrade/Connection headers did not reach the WebSocket server.\(viaText) A reverse proxy not configured for WebSocket is the usual reason.",
            fixes: fixes, catalogueFixes: false, evidence: ev, data: data))
    }

    private static func upgraded(_ e: Evidence, _ h: HandshakeEvidence, _ r: ResponseHead,
                                 details: [(String, JSONValue)], findings: [Report.Finding]) -> StageJudgement {
        var details = details
        func failed(_ summary: String, _ cause: Report.Cause) -> StageJudgement {
            StageJudgement(stage: .init(name: .handshake, status: .failed, durationMs: h.durationMs, summary: summary,
                                        details: .object(details)), cause: cause, findings: findings)
        }
        let upgrade = r.headerTokens("Upgrade").map { $0.lowercased() }
        let connection = r.headerTokens("Connection").map { $0.lowercased() }
        if !upgrade.contains("websocket") || !connection.contains("upgrade") {
            var missing: [String] = []
            if !upgrade.contains("websocket") { missing.append("Upgrade: websocket") }
            if !connection.contains("upgrade") { missing.append("Connection: Upgrade") }
            return failed("101 without \(missing.joined(separator: " and "))", CauseCatalogue.cause(
                .invalidUpgradeResponse,
                summary: "The server answered 101 but without \(missing.joined(separator: " and ")); browsers fail such a handshake.",
                evidence: ["101 response headers: \(r.headers.map { "\($0.0): \($0.1)" }.joined(separator: "; "))"],
                data: ["missing": .strings(missing)]))
        }
        let accept = r.header("Sec-WebSocket-Accept")
        details.append(("acceptExpected", .string(h.expectedAccept)))
        details.append(("acceptReceived", .optional(accept)))
        if accept != h.expectedAccept {
            return failed("101 with a \(accept == nil ? "missing" : "wrong") Sec-WebSocket-Accept", CauseCatalogue.cause(
                .invalidAccept,
                summary: accept == nil
                    ? "The 101 answer has no Sec-WebSocket-Accept header; browsers fail such a handshake."
                    : "The 101 answer's Sec-WebSocket-Accept does not match the key sent: an intermediary rewrote the key, or the server computes the accept wrongly.",
                evidence: ["sent Sec-WebSocket-Key: \(h.key)", "expected Sec-WebSocket-Accept: \(h.expectedAccept)",
                           "received: \(accept ?? "(none)")"],
                data: ["expected": .string(h.expectedAccept), "received": .optional(accept)]))
        }
        let answered = r.headerTokens("Sec-WebSocket-Protocol")
        let offered = h.offeredSubprotocols
        details.append(("subprotocol", answered.first.map(JSONValue.string) ?? .null))
        if (!offered.isEmpty && answered.isEmpty) || answered.contains(where: { !offered.contains($0) }) || answered.count > 1 {
            let answeredText = answered.isEmpty ? "none" : answered.joined(separator: ", ")
            return failed("subprotocol mismatch", CauseCatalogue.cause(
                .subprotocolMismatch,
                summary: offered.isEmpty
                    ? "The server chose subprotocol \(answeredText), which was not offered; browsers fail the connection."
                    : "Offered \(offered.joined(separator: ", ")), the server answered \(answeredText); browsers fail the connection when the answer is not one offered.",
                evidence: ["offered Sec-WebSocket-Protocol: \(offered.isEmpty ? "(none)" : offered.joined(separator: ", "))",
                           "answered: \(answeredText)"],
                data: ["offered": .strings(offered), "answered": answered.first.map(JSONValue.string) ?? .null]))
        }
        let extensions = r.headerTokens("Sec-WebSocket-Extensions")
        let offeredExtensionNames = Set(h.offeredExtensions.map { $0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "" })
        let unexpected = extensions.filter {
            !offeredExtensionNames.contains($0.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? "")
        }
        if !unexpected.isEmpty {
            return failed("unexpected extension", CauseCatalogue.cause(
                .extensionMismatch,
                summary: "The server accepted extension \(unexpected.joined(separator: ", ")) that was not offered; browsers fail the connection.",
                evidence: ["offered: \(h.offeredExtensions.isEmpty ? "(none)" : h.offeredExtensions.joined(separator: ", "))",
                           "answered Sec-WebSocket-Extensions: \(extensions.joined(separator: ", "))"],
                data: ["answered": .strings(extensions)]))
        }
        var summary = "101 Switching Protocols, accept key verified"
        if let p = answered.first { summary += ", subprotocol \(p)" }
        summary += String(format: " (%.1f ms)", h.durationMs)
        let intermediaries = ServerFingerprints.identify(headers: r.headers)
        var allFindings = findings
        if !intermediaries.isEmpty {
            allFindings.append(.init(id: "intermediary-seen", severity: .info, stage: .handshake,
                                     message: "in the path: \(intermediaries.map { "\($0.name) (\($0.evidence))" }.joined(separator: ", "))",
                                     data: ["names": .strings(intermediaries.map(\.name))]))
        }
        return StageJudgement(stage: .init(name: .handshake, status: findings.isEmpty ? .passed : .warning,
                                           durationMs: h.durationMs, summary: summary, details: .object(details)),
                              findings: allFindings)
    }

    static func describe(_ failure: HandshakeEvidence.Failure) -> String {
        switch failure {
        case .timeout(let n): n == 0 ? "no answer" : "an incomplete answer (\(n) bytes)"
        case .closed(let n): n == 0 ? "no answer before the connection closed" : "\(n) bytes, then the connection closed"
        case .reset: "a connection reset"
        case .notHTTP(let banner): "a non-HTTP answer: \(banner.prefix(40))"
        case .tlsAnswer: "a TLS record in answer"
        case .headTooLarge(let n): "a response head over \(n) bytes"
        }
    }

    private static func snippetEvidence(_ snippet: String?) -> [String] {
        guard let s = snippet?.trimmingCharacters(in: .whitespacesAndNewlines), !s.isEmpty else { return [] }
        let oneLine = s.replacingOccurrences(of: "\r", with: " ").replacingOccurrences(of: "\n", with: " ")
        return ["response body: \(oneLine.prefix(160))\(oneLine.count > 160 ? "…" : "")"]
    }

    /// The WebSocket URL a redirect points to, so the fix can be pasted.
    static func webSocketURL(for location: String, base: Target?) -> String {
        var absolute = location
        if location.hasPrefix("//"), let base {
            // Protocol-relative: another host, same scheme.
            absolute = "\(base.secure ? "wss" : "ws"):\(location)"
        } else if location.hasPrefix("/"), let base {
            absolute = "\(base.secure ? "wss" : "ws")://\(base.hostHeader)\(location)"
        }
        if absolute.hasPrefix("https://") { absolute = "wss://" + absolute.dropFirst(8) }
        if absolute.hasPrefix("http://") { absolute = "ws://" + absolute.dropFirst(7) }
        return absolute
    }
}

extension JSONValue {
    /// Merges two objects (right wins); other values: left.
    static func + (lhs: JSONValue, rhs: JSONValue) -> JSONValue {
        guard case .object(var l) = lhs, case .object(let r) = rhs else { return lhs }
        for (k, v) in r {
            if let i = l.firstIndex(where: { $0.0 == k }) { l[i].1 = v } else { l.append((k, v)) }
        }
        return .object(l)
    }
}
