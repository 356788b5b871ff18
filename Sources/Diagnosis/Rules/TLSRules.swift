import Foundation

/// Judges the `tls` stage. The probe accepts whatever chain the server serves and records it,
/// so every verdict about the certificate is made here, from plain values, in a fixed order:
/// a failed handshake first (nothing else was seen), then validity times, then trust, then the
/// host name. Time comes before trust so that an expired certificate from a trusted CA is called
/// expired — the thing to fix — not "untrusted". Only the first problem becomes the cause; any
/// others are listed in its evidence, so one fix does not hide the next.
public enum TLSRules {
    /// A certificate expiring within this many days is a warning: renewal has likely failed.
    public static let expiringSoonDays = 14

    public static func judge(_ tls: TLSEvidence, target: Target, insecure: Bool) -> StageJudgement {
        let details = details(tls, target: target)
        if let failure = tls.handshakeFailure {
            // Nothing to bypass: without a handshake there is no connection, whatever `--insecure` says.
            let problem = handshakeProblem(failure, tls: tls, target: target)
            return StageJudgement(
                stage: Report.Stage(
                    name: .tls, status: .failed, durationMs: tls.durationMs, summary: problem.headline,
                    details: details),
                cause: problem.cause)
        }
        let findings = findings(tls)
        let problems = certificateProblems(tls, target: target)
        guard var primary = problems.first else {
            return StageJudgement(
                stage: Report.Stage(
                    name: .tls, status: findings.isEmpty ? .passed : .warning, durationMs: tls.durationMs,
                    summary: passedSummary(tls), details: details),
                findings: findings)
        }
        primary.cause.evidence += problems.dropFirst().map { "also: \($0.headline)" }
        var summary = primary.headline
        if insecure {
            summary += " — verification bypassed (--insecure), continuing"
            primary.cause.evidence.append("--insecure: certificate verification was bypassed to continue the diagnosis")
        }
        return StageJudgement(
            stage: Report.Stage(
                name: .tls, status: insecure ? .warning : .failed, durationMs: tls.durationMs, summary: summary,
                details: details),
            cause: primary.cause, findings: findings)
    }

    /// One thing wrong with TLS: a short line for the stage summary and the full cause.
    private struct Problem {
        var headline: String
        var cause: Report.Cause
    }
}

// MARK: - Handshake failures

extension TLSRules {
    private static func handshakeProblem(
        _ failure: TLSEvidence.HandshakeFailure, tls: TLSEvidence, target: Target
    ) -> Problem {
        let endpoint = target.tlsEndpoint
        switch failure {
        case .plaintextAnswer(let text):
            let line = firstLine(text)
            let isHTTP = line.hasPrefix("HTTP/")
            let title = isHTTP
                ? "Port \(target.port) speaks plain HTTP, not TLS"
                : "Port \(target.port) answers in plaintext, not TLS"
            let plainURL = "ws://\(target.hostHeaderForPlainScheme)\(target.path)"
            return Problem(
                headline: "plaintext answer to the TLS ClientHello: \"\(line)\"",
                cause: CauseCatalogue.cause(
                    .tlsToPlaintextServer, title: title,
                    summary: "wss:// was used, but \(endpoint) answered the TLS ClientHello with \"\(line)\": "
                        + "nothing terminates TLS on this port. Use ws:// for this port, or the port where TLS "
                        + "is served (usually 443).",
                    fixes: ["use \(plainURL) for this port"],
                    evidence: ["answer to the TLS ClientHello: \"\(line)\""],
                    data: ["answer": .string(line), "port": .int(target.port)]))
        case .alert(let alert):
            return Problem(
                headline: "TLS handshake refused with alert \"\(alert)\"",
                cause: CauseCatalogue.cause(
                    .tlsHandshakeFailure, title: "The server refused the TLS handshake (alert: \(alert))",
                    summary: "\(endpoint) ended the TLS handshake with the alert \"\(alert)\". \(alertHint(alert))",
                    evidence: [
                        "TLS alert from the server: \(alert)",
                        "server name sent (SNI): \(tls.serverName ?? "none")",
                    ],
                    data: ["reason": "alert", "alert": .string(alert)]))
        case .timeout:
            let seconds = String(format: "%.1f", tls.durationMs / 1000)
            return Problem(
                headline: "no TLS answer within \(seconds) s",
                cause: CauseCatalogue.cause(
                    .tlsHandshakeFailure, title: "No TLS answer from \(endpoint)",
                    summary: "The TCP connection was accepted, but the server did not answer the TLS ClientHello "
                        + "within \(seconds) s. The port may expect plaintext and be waiting for an HTTP request "
                        + "(try ws://), or a firewall or proxy in the path swallows TLS.",
                    confidence: .medium,
                    fixes: [
                        "check that port \(target.port) serves TLS; if it serves plain HTTP, use ws://",
                        "check firewalls and proxies between here and \(target.host)",
                    ],
                    evidence: ["no bytes in answer to the ClientHello after \(seconds) s"],
                    data: ["reason": "timeout"]))
        case .closed:
            return Problem(
                headline: "connection closed during the TLS handshake",
                cause: CauseCatalogue.cause(
                    .tlsHandshakeFailure, title: "The server closed the connection during the TLS handshake",
                    summary: "\(endpoint) closed the connection in answer to the TLS ClientHello, without an alert. "
                        + "Usual reasons: the server has no certificate for the name sent in SNI "
                        + "(\(tls.serverName ?? "none: IP address")), no TLS version or cipher in common, or a "
                        + "service that is not TLS and drops binary input.",
                    confidence: .medium,
                    evidence: ["the connection closed before the handshake completed, without a TLS alert"],
                    data: ["reason": "closed"]))
        case .other(let message):
            return Problem(
                headline: "TLS handshake failed: \(message)",
                cause: CauseCatalogue.cause(
                    .tlsHandshakeFailure, title: "The TLS handshake failed: \(message)",
                    summary: "The TLS handshake with \(endpoint) failed: \(message).",
                    confidence: .medium,
                    evidence: ["TLS error: \(message)"],
                    data: ["reason": "error", "error": .string(message)]))
        }
    }

    /// What an alert usually means in practice, so the summary says where to look.
    private static func alertHint(_ alert: String) -> String {
        switch alert.lowercased() {
        case "handshake failure":
            "Usually no TLS version or cipher suite in common, or the server needs a client certificate or a "
                + "server name (SNI) it knows."
        case "protocol version":
            "No TLS version in common: the server allows only versions this client does not offer (or only very old ones)."
        case "unrecognized name":
            "The server does not know the name sent in SNI: check its virtual host / server_name configuration."
        case "certificate required", "bad certificate", "unknown ca", "access denied":
            "The server requires a client certificate (mutual TLS)."
        case "insufficient security":
            "The server requires stronger cipher suites than were offered."
        case "internal error":
            "The server failed internally during the handshake: check its logs."
        default:
            "Check the server's TLS configuration and logs."
        }
    }
}

// MARK: - Certificate problems

extension TLSRules {
    /// Every certificate problem found, in the order they should be fixed.
    private static func certificateProblems(_ tls: TLSEvidence, target: Target) -> [Problem] {
        guard let leaf = tls.chain.first else {
            return [
                Problem(
                    headline: "the server sent no certificate",
                    cause: CauseCatalogue.cause(
                        .tlsHandshakeFailure, title: "The server sent no certificate",
                        summary: "The TLS handshake completed without a server certificate, which no WebSocket client accepts.",
                        confidence: .medium, evidence: ["empty certificate chain"],
                        data: ["reason": "no-certificate"]))
            ]
        }
        var problems: [Problem] = []
        for (index, cert) in tls.chain.enumerated() where cert.notAfter < tls.checkedAt {
            if isUnneededServedRoot(cert, index: index, trust: tls.trust) { continue }
            problems.append(expired(cert, index: index, tls: tls))
        }
        for (index, cert) in tls.chain.enumerated() where cert.notBefore > tls.checkedAt {
            problems.append(notYetValid(cert, index: index, tls: tls))
        }
        if let trust = tls.trust, let problem = trustProblem(trust, tls: tls) {
            problems.append(problem)
        }
        if !HostnameMatch.matches(host: target.host, dnsNames: leaf.dnsNames, ipAddresses: leaf.ipAddresses) {
            problems.append(hostnameMismatch(leaf, target: target))
        }
        return problems
    }

    /// A served root that is not the one the chain was built to: clients ignore it (the
    /// expired cross-signed roots of 2020/2021), so it is a warning, not the cause.
    private static func isUnneededServedRoot(_ cert: CertificateSummary, index: Int, trust: TrustResult?) -> Bool {
        guard index > 0, cert.selfIssued, case .trusted(let root) = trust else { return false }
        return displayName(cert.subject) != root
    }

    private static func expired(_ cert: CertificateSummary, index: Int, tls: TLSEvidence) -> Problem {
        let ago = span(tls.checkedAt.timeIntervalSince(cert.notAfter))
        let who = role(cert, index: index)
        let name = displayName(cert.subject)
        let fixes =
            index == 0
            ? ["renew the certificate for \(name) (expired \(rfc3339(cert.notAfter))) and reload whatever serves it"]
            : ["replace the expired \(name) in the served chain with your CA's current one"]
        return Problem(
            headline: "\(who) expired \(ago) ago (\(rfc3339(cert.notAfter)))",
            cause: CauseCatalogue.cause(
                .tlsExpiredCertificate, title: "\(capitalised(who)) expired \(ago) ago",
                summary: "\(capitalised(who)) was valid until \(rfc3339(cert.notAfter)) and expired \(ago) ago "
                    + "(checked at \(rfc3339(tls.checkedAt))). Every client refuses it.",
                fixes: fixes,
                evidence: [
                    "\(who): notAfter \(rfc3339(cert.notAfter)), checked at \(rfc3339(tls.checkedAt))",
                    "subject: \(cert.subject), issuer: \(cert.issuer)",
                ],
                data: [
                    "notAfter": .string(rfc3339(cert.notAfter)), "subject": .string(cert.subject),
                    "position": .int(index),
                    "expiredDays": .number((tls.checkedAt.timeIntervalSince(cert.notAfter) / 8640).rounded() / 10),
                ]))
    }

    private static func notYetValid(_ cert: CertificateSummary, index: Int, tls: TLSEvidence) -> Problem {
        let ahead = span(cert.notBefore.timeIntervalSince(tls.checkedAt))
        let who = role(cert, index: index)
        return Problem(
            headline: "\(who) is not valid until \(rfc3339(cert.notBefore)) (\(ahead) from now)",
            cause: CauseCatalogue.cause(
                .tlsNotYetValidCertificate, title: "\(capitalised(who)) is not valid yet",
                summary: "\(capitalised(who)) becomes valid at \(rfc3339(cert.notBefore)), \(ahead) after this "
                    + "machine's clock (\(rfc3339(tls.checkedAt))). A wrong clock is the usual reason: check this "
                    + "machine's date and time zone. If the clock is right, the certificate was issued with a "
                    + "future start date.",
                fixes: [
                    "this machine's clock says \(rfc3339(tls.checkedAt)): if that is wrong, fix it (NTP), and check the clocks of the clients that fail"
                ],
                evidence: [
                    "\(who): notBefore \(rfc3339(cert.notBefore)), checked at \(rfc3339(tls.checkedAt))",
                    "subject: \(cert.subject)",
                ],
                data: [
                    "notBefore": .string(rfc3339(cert.notBefore)), "checkedAt": .string(rfc3339(tls.checkedAt)),
                    "subject": .string(cert.subject), "position": .int(index),
                ]))
    }

    private static func trustProblem(_ trust: TrustResult, tls: TLSEvidence) -> Problem? {
        let leaf = tls.chain[0]
        let caFileNote = tls.extraRoots > 0 ? " nor among the \(tls.extraRoots) root(s) from --ca-file" : ""
        switch trust {
        case .trusted:
            return nil
        case .selfSigned:
            return Problem(
                headline: "self-signed certificate (\(displayName(leaf.subject)))",
                cause: CauseCatalogue.cause(
                    .tlsUntrustedCertificate, title: "The certificate is self-signed",
                    summary: "The server presents a self-signed certificate for \(displayName(leaf.subject)), which "
                        + "is not a trusted root\(caFileNote). Clients refuse it; browsers fail wss:// silently "
                        + "(close code 1006) because there is no warning page to click through.",
                    fixes: [
                        "to trust this very certificate on purpose (test or internal server), pass it with --ca-file — "
                            + "sha256 \(leaf.sha256)"
                    ],
                    evidence: ["the leaf signs itself: subject = issuer = \(leaf.subject)", "sha256 \(leaf.sha256)"],
                    data: ["trust": "self-signed", "subject": .string(leaf.subject)]))
        case .unknownRoot(let root):
            return Problem(
                headline: "issued by an unknown authority (\(root))",
                cause: CauseCatalogue.cause(
                    .tlsUntrustedCertificate, title: "The certificate is issued by an unknown authority (\(root))",
                    summary: "The served chain ends in the root \(root), which is not in the trust store\(caFileNote): "
                        + "a private or internal CA. Clients without that root installed refuse the connection.",
                    fixes: ["if \(root) is your private CA, pass its root certificate with --ca-file (and install it on your clients)"],
                    evidence: ["served chain: \(tls.chain.map { displayName($0.subject) }.joined(separator: " → "))",
                               "root \(root) is not trusted"],
                    data: ["trust": "unknown-root", "root": .string(root)]))
        case .missingIssuer(let issuer):
            let last = tls.chain[tls.chain.count - 1]
            var evidence = [
                "served chain: \(tls.chain.map { displayName($0.subject) }.joined(separator: " → "))",
                "issuer of the last served certificate: \(issuer) — neither served nor a trusted root",
            ]
            if let url = last.issuerURLs.first {
                evidence.append("the certificate says its issuer can be fetched from \(url)")
            }
            return Problem(
                headline: "incomplete chain: issuer \(issuer) not served",
                cause: CauseCatalogue.cause(
                    .tlsIncompleteChain, title: "The server does not send the intermediate certificate (\(issuer))",
                    summary: "The server sent \(tls.chain.count) certificate(s); the issuer of the last one, \(issuer), "
                        + "is neither sent nor a trusted root\(caFileNote), so no chain can be built. Browsers often "
                        + "hide this (cached intermediates, AIA fetching) while most WebSocket clients (Node.js, "
                        + "Python, Go, Java) fail. If \(issuer) is a private CA, the certificate is untrusted "
                        + "instead: pass that CA's root with --ca-file.",
                    confidence: .medium,
                    fixes: [
                        "serve the full chain (fullchain.pem / ssl_certificate with intermediates)",
                        "if \(issuer) is a private CA, pass its root certificate with --ca-file",
                    ] + last.issuerURLs.prefix(1).map { "the missing \(issuer) certificate can be downloaded from \($0) and appended to the chain file" },
                    evidence: evidence,
                    data: [
                        "issuer": .string(issuer), "served": .int(tls.chain.count),
                        "issuerURLs": .strings(last.issuerURLs),
                    ]))
        case .failed(let reason):
            return Problem(
                headline: "certificate chain does not verify: \(reason)",
                cause: CauseCatalogue.cause(
                    .tlsUntrustedCertificate, title: "The certificate chain does not verify",
                    summary: "A chain from the served certificates to a trusted root could not be verified: \(reason).",
                    confidence: .medium,
                    fixes: ["serve a complete, correctly ordered chain issued by a trusted CA"],
                    evidence: ["chain verification: \(reason)"],
                    data: ["trust": "failed", "reason": .string(reason)]))
        }
    }

    private static func hostnameMismatch(_ leaf: CertificateSummary, target: Target) -> Problem {
        let names = leaf.dnsNames + leaf.ipAddresses
        let host = target.host
        var summary: String
        if names.isEmpty {
            summary = "The certificate lists no subject alternative names (only the subject \(leaf.subject)); "
                + "clients no longer accept a host name given only in the Common Name."
        } else {
            let shown = names.prefix(8).joined(separator: ", ") + (names.count > 8 ? ", … (\(names.count) names)" : "")
            summary = "The certificate covers \(shown) — not \(host)."
        }
        let hostIsIP = HostnameMatch.IPAddressBytes.parse(host) != nil
        if hostIsIP {
            summary += " An IP address must be listed as an IP address SAN; DNS names do not cover it."
        } else if let near = leaf.dnsNames.first(where: { wildcardTooShallow($0, host: host) }) {
            summary += " The wildcard \(near) covers exactly one label, not \(host)."
        } else if !names.isEmpty {
            summary += " If these names belong to another site on the same server, the server picked the wrong "
                + "certificate for this name: check its server_name / virtual host / SNI configuration."
        }
        return Problem(
            headline: "certificate does not cover \(host) (covers \(names.isEmpty ? "no names" : names.prefix(4).joined(separator: ", ")))",
            cause: CauseCatalogue.cause(
                .tlsHostnameMismatch, title: "The certificate does not cover \(host)",
                summary: summary,
                fixes: ["issue a certificate whose subjectAltName includes \(host)"],
                evidence: [
                    "host: \(host)",
                    "certificate names (SAN): \(names.isEmpty ? "none" : names.joined(separator: ", "))",
                    "subject: \(leaf.subject)",
                ],
                data: ["names": .strings(names), "host": .string(host)]))
    }

    /// `*.example.com` for `a.b.example.com`: the most common wildcard surprise.
    private static func wildcardTooShallow(_ pattern: String, host: String) -> Bool {
        guard pattern.hasPrefix("*.") else { return false }
        let base = pattern.dropFirst(1).lowercased()
        return host.lowercased().hasSuffix(base) && host.lowercased() != String(base.dropFirst())
    }
}

// MARK: - Findings, summary, details

extension TLSRules {
    private static func findings(_ tls: TLSEvidence) -> [Report.Finding] {
        var findings: [Report.Finding] = []
        let soon = TimeInterval(expiringSoonDays) * 86_400
        for (index, cert) in tls.chain.enumerated() {
            let left = cert.notAfter.timeIntervalSince(tls.checkedAt)
            if left >= 0, left <= soon, cert.notBefore <= tls.checkedAt {
                findings.append(
                    Report.Finding(
                        id: "certificate-expires-soon", severity: .warning, stage: .tls,
                        message: "\(role(cert, index: index)) expires in \(span(left)) (\(rfc3339(cert.notAfter))): "
                            + "check that renewal works",
                        data: [
                            "notAfter": .string(rfc3339(cert.notAfter)), "subject": .string(cert.subject),
                            "days": .number((left / 8640).rounded() / 10),
                        ]))
            } else if left < 0, isUnneededServedRoot(cert, index: index, trust: tls.trust) {
                findings.append(
                    Report.Finding(
                        id: "expired-root-served", severity: .warning, stage: .tls,
                        message: "the server also sends the expired root \(displayName(cert.subject)) "
                            + "(\(rfc3339(cert.notAfter))); current clients ignore it, older ones may fail",
                        data: ["notAfter": .string(rfc3339(cert.notAfter)), "subject": .string(cert.subject)]))
            }
        }
        if let version = tls.version, isLegacy(version) {
            findings.append(
                Report.Finding(
                    id: "tls-legacy-version", severity: .warning, stage: .tls,
                    message: "\(version) was negotiated: deprecated (RFC 8996), refused by browsers and many clients; "
                        + "enable TLS 1.2 and 1.3 on the server",
                    data: ["version": .string(version)]))
        }
        return findings
    }

    /// TLS 1.0/1.1 and SSL, however the version string is spelled (`TLS 1.0`, `TLSv1`, `TLSv1.1`).
    static func isLegacy(_ version: String) -> Bool {
        let v = version.lowercased().replacingOccurrences(of: " ", with: "")
        if v.hasPrefix("ssl") { return true }
        let number = v.replacingOccurrences(of: "tls", with: "").replacingOccurrences(of: "v", with: "")
        return number == "1" || number == "1.0" || number == "1.1"
    }

    private static func passedSummary(_ tls: TLSEvidence) -> String {
        var parts = [tls.version ?? "TLS (version unknown)"]
        parts.append(tls.alpn.map { "ALPN \($0)" } ?? "no ALPN")
        var chain = "chain of \(tls.chain.count)"
        switch tls.trust {
        case .trusted(let root): chain += " trusted by \(root)"
        case nil: chain += " (trust not checked)"
        default: break
        }
        parts.append(chain)
        if let leaf = tls.chain.first { parts.append("valid until \(day(leaf.notAfter))") }
        return parts.joined(separator: ", ")
    }

    private static func details(_ tls: TLSEvidence, target: Target) -> JSONValue {
        let chain: [JSONValue] = tls.chain.map { cert in
            [
                "subject": .string(cert.subject), "issuer": .string(cert.issuer),
                "notBefore": .string(rfc3339(cert.notBefore)), "notAfter": .string(rfc3339(cert.notAfter)),
                "names": .strings(cert.dnsNames + cert.ipAddresses), "sha256": .string(cert.sha256),
                "serial": .string(cert.serial), "isCA": .bool(cert.isCA), "selfIssued": .bool(cert.selfIssued),
            ]
        }
        let hostnameMatches: JSONValue = tls.chain.first.map {
            .bool(HostnameMatch.matches(host: target.host, dnsNames: $0.dnsNames, ipAddresses: $0.ipAddresses))
        } ?? .null
        return [
            "version": .optional(tls.version), "alpn": .optional(tls.alpn), "cipher": .optional(tls.cipher),
            "serverName": .optional(tls.serverName), "chain": .array(chain), "trust": trustJSON(tls.trust),
            "hostnameMatches": hostnameMatches, "extraRoots": .int(tls.extraRoots),
            "checkedAt": .string(rfc3339(tls.checkedAt)),
            "handshakeFailure": tls.handshakeFailure.map { .string(failureText($0)) } ?? .null,
        ]
    }

    private static func trustJSON(_ trust: TrustResult?) -> JSONValue {
        switch trust {
        case nil: .null
        case .trusted(let root): ["result": "trusted", "root": .string(root)]
        case .selfSigned: ["result": "self-signed"]
        case .unknownRoot(let root): ["result": "unknown-root", "root": .string(root)]
        case .missingIssuer(let issuer): ["result": "missing-issuer", "issuer": .string(issuer)]
        case .failed(let reason): ["result": "failed", "reason": .string(reason)]
        }
    }

    private static func failureText(_ failure: TLSEvidence.HandshakeFailure) -> String {
        switch failure {
        case .plaintextAnswer(let text): "plaintext answer: \(firstLine(text))"
        case .alert(let alert): "alert: \(alert)"
        case .timeout: "timeout"
        case .closed: "closed"
        case .other(let message): message
        }
    }
}

// MARK: - Wording helpers

extension TLSRules {
    /// "the leaf certificate for example.com", "intermediate certificate R3", "served root X".
    private static func role(_ cert: CertificateSummary, index: Int) -> String {
        let name = displayName(cert.subject)
        if index == 0 { return "the certificate for \(name)" }
        if cert.selfIssued { return "the served root certificate \(name)" }
        return "the intermediate certificate \(name)"
    }

    private static func capitalised(_ text: String) -> String { text.prefix(1).uppercased() + text.dropFirst() }

    /// The CN of a distinguished name as written by the inspector (`CN=R3,O=Let's Encrypt,C=US`),
    /// or the whole name when it has none: CNs are what people recognise.
    static func displayName(_ dn: String) -> String {
        var components: [String] = []
        var current = ""
        var escaped = false
        for ch in dn {
            if escaped {
                current.append(ch)
                escaped = false
            } else if ch == "\\" {
                escaped = true
            } else if ch == "," {
                components.append(current)
                current = ""
            } else {
                current.append(ch)
            }
        }
        components.append(current)
        if let cn = components.first(where: { $0.hasPrefix("CN=") }) {
            let value = String(cn.dropFirst(3))
            if !value.isEmpty { return value }
        }
        return dn.isEmpty ? "(empty name)" : dn
    }

    private static func firstLine(_ text: String) -> String {
        let line = text.split(whereSeparator: { $0 == "\r" || $0 == "\n" }).first.map(String.init) ?? ""
        return line.count > 120 ? String(line.prefix(120)) + "…" : line
    }

    /// A duration people read at a glance: "40 seconds", "3 hours", "12 days".
    static func span(_ seconds: TimeInterval) -> String {
        let s = abs(seconds)
        func unit(_ value: Double, _ name: String) -> String {
            let n = Int(value.rounded(.down))
            return "\(n) \(name)\(n == 1 ? "" : "s")"
        }
        if s < 120 { return unit(s, "second") }
        if s < 7_200 { return unit(s / 60, "minute") }
        if s < 172_800 { return unit(s / 3_600, "hour") }
        return unit(s / 86_400, "day")
    }

    static func rfc3339(_ date: Date) -> String { date.formatted(Date.ISO8601FormatStyle()) }

    private static func day(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle().year().month().day())
    }
}

extension Target {
    /// `host:port` with the port always written: it is the port that is being talked about.
    fileprivate var tlsEndpoint: String { "\(isIPv6Literal ? "[\(host)]" : host):\(port)" }

    /// The authority for a `ws://` URL to the same host and port (port 80 left out, as in URLs).
    fileprivate var hostHeaderForPlainScheme: String { port == 80 ? (isIPv6Literal ? "[\(host)]" : host) : tlsEndpoint }
}
