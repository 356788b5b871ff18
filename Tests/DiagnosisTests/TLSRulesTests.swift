import Diagnosis
import Foundation
import Testing

/// The `tls` stage judged from plain values: every tls-* cause with its required data, in the
/// right order, and the findings and `--insecure` behaviour around them.
struct TLSRulesTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18
    static let day: TimeInterval = 86_400
    static let target = Target(url: "wss://example.com/ws", host: "example.com", port: 443, secure: true, path: "/ws")

    static func cert(
        cn: String = "example.com", issuer: String = "R3", names: [String] = ["example.com"], ips: [String] = [],
        notBefore: Date = now - 30 * day, notAfter: Date = now + 60 * day, isCA: Bool = false
    ) -> CertificateSummary {
        CertificateSummary(
            subject: "CN=\(cn),O=Example", issuer: "CN=\(issuer),O=Let's Encrypt,C=US", serial: "01AB",
            notBefore: notBefore, notAfter: notAfter, dnsNames: names, ipAddresses: ips, isCA: isCA,
            selfIssued: cn == issuer, sha256: String(repeating: "ab", count: 32),
            issuerURLs: ["http://r3.i.lencr.org/"])
    }

    static let intermediate = cert(cn: "R3", issuer: "ISRG Root X1", names: [], isCA: true)

    static func evidence(
        chain: [CertificateSummary] = [cert(), intermediate], trust: TrustResult? = .trusted(root: "ISRG Root X1"),
        version: String = "TLS 1.3", failure: TLSEvidence.HandshakeFailure? = nil
    ) -> TLSEvidence {
        var tls = TLSEvidence(checkedAt: now)
        tls.durationMs = 12.34
        tls.version = failure == nil ? version : nil
        tls.alpn = failure == nil ? "http/1.1" : nil
        tls.cipher = failure == nil ? "TLS_AES_128_GCM_SHA256" : nil
        tls.serverName = "example.com"
        tls.chain = failure == nil ? chain : []
        tls.trust = failure == nil ? trust : nil
        tls.handshakeFailure = failure
        return tls
    }

    static func judge(_ tls: TLSEvidence, insecure: Bool = false) -> StageJudgement {
        TLSRules.judge(tls, target: target, insecure: insecure)
    }

    /// Every cause carries the data keys the spec requires for its id.
    static func expectRequiredData(_ cause: Report.Cause?, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let cause, let id = CauseID(rawValue: cause.id) else {
            Issue.record("no known cause", sourceLocation: sourceLocation)
            return
        }
        for key in id.requiredDataKeys {
            #expect(cause.data[key] != nil, "\(cause.id) lacks data.\(key)", sourceLocation: sourceLocation)
        }
    }

    // MARK: healthy

    @Test func healthyChainPassesWithAOneLineSummary() throws {
        let j = Self.judge(Self.evidence())
        #expect(j.cause == nil)
        #expect(j.findings.isEmpty)
        #expect(j.stage.name == "tls")
        #expect(j.stage.status == .passed)
        #expect(j.stage.durationMs == 12.3)
        let until = (Self.now + 60 * Self.day).formatted(Date.ISO8601FormatStyle().year().month().day())
        #expect(j.stage.summary == "TLS 1.3, ALPN http/1.1, chain of 2 trusted by ISRG Root X1, valid until \(until)")
        let details = j.stage.details
        #expect(details["version"] == "TLS 1.3")
        #expect(details["alpn"] == "http/1.1")
        #expect(details["cipher"] == "TLS_AES_128_GCM_SHA256")
        #expect(details["trust"]?["result"] == "trusted")
        #expect(details["trust"]?["root"] == "ISRG Root X1")
        let chain = try #require(details["chain"]?.arrayValue)
        #expect(chain.count == 2)
        for key in ["subject", "issuer", "notBefore", "notAfter", "names", "sha256"] {
            #expect(chain[0][key] != nil, "chain entry lacks \(key)")
        }
        #expect(chain[0]["names"] == .strings(["example.com"]))
        #expect(chain[0]["notAfter"] == .string((Self.now + 60 * Self.day).formatted(Date.ISO8601FormatStyle())))
    }

    // MARK: handshake failures

    @Test func plaintextAnswerIsTLSToPlaintextServer() {
        let j = Self.judge(Self.evidence(failure: .plaintextAnswer("HTTP/1.1 400 Bad Request\r\nServer: nginx\r\n\r\n")))
        #expect(j.cause?.id == "tls-to-plaintext-server")
        #expect(j.cause?.summary.contains("HTTP/1.1 400 Bad Request") == true)
        #expect(j.cause?.fixes.first == "use ws://example.com:443/ws for this port")
        #expect(j.stage.status == .failed)
        Self.expectRequiredData(j.cause)
    }

    @Test(arguments: [
        TLSEvidence.HandshakeFailure.alert("handshake failure"), .timeout, .closed, .other("wrong version number"),
    ])
    func otherHandshakeFailures(failure: TLSEvidence.HandshakeFailure) {
        let j = Self.judge(Self.evidence(failure: failure))
        #expect(j.cause?.id == "tls-handshake-failure")
        #expect(j.stage.status == .failed)
        #expect(j.findings.isEmpty)
        Self.expectRequiredData(j.cause)
    }

    @Test func handshakeFailureStaysFailedWithInsecure() {
        let j = Self.judge(Self.evidence(failure: .alert("protocol version")), insecure: true)
        #expect(j.stage.status == .failed)
        #expect(j.cause?.title.contains("protocol version") == true)
    }

    // MARK: validity

    @Test func expiredLeaf() {
        let expired = Self.cert(notBefore: Self.now - 93 * Self.day, notAfter: Self.now - 3 * Self.day)
        let j = Self.judge(Self.evidence(chain: [expired, Self.intermediate]))
        #expect(j.cause?.id == "tls-expired-certificate")
        #expect(j.cause?.data["notAfter"] == .string((Self.now - 3 * Self.day).formatted(Date.ISO8601FormatStyle())))
        #expect(j.cause?.title.contains("3 days ago") == true)
        #expect(j.cause?.title.contains("example.com") == true)
        #expect(j.stage.status == .failed)
        Self.expectRequiredData(j.cause)
    }

    @Test func expiredIntermediateIsNamed() {
        let oldIntermediate = Self.cert(
            cn: "R3", issuer: "ISRG Root X1", names: [], notBefore: Self.now - 900 * Self.day,
            notAfter: Self.now - 2 * Self.day, isCA: true)
        let j = Self.judge(Self.evidence(chain: [Self.cert(), oldIntermediate]))
        #expect(j.cause?.id == "tls-expired-certificate")
        #expect(j.cause?.title.contains("intermediate certificate R3") == true)
    }

    @Test func expiryComesBeforeTrustAndHostname() {
        let expiredElsewhere = Self.cert(
            cn: "other.example", names: ["other.example"], notAfter: Self.now - Self.day)
        let j = Self.judge(Self.evidence(chain: [expiredElsewhere], trust: .selfSigned))
        #expect(j.cause?.id == "tls-expired-certificate")
        #expect(j.cause?.evidence.contains { $0.hasPrefix("also: self-signed") } == true)
        #expect(j.cause?.evidence.contains { $0.hasPrefix("also: certificate does not cover example.com") } == true)
    }

    @Test func expiredUnneededServedRootIsOnlyAWarning() {
        let oldRoot = Self.cert(
            cn: "DST Root CA X3", issuer: "DST Root CA X3", names: [], notAfter: Self.now - 400 * Self.day, isCA: true)
        let j = Self.judge(Self.evidence(chain: [Self.cert(), Self.intermediate, oldRoot]))
        #expect(j.cause == nil)
        #expect(j.findings.map(\.id) == ["expired-root-served"])
        #expect(j.stage.status == .warning)
    }

    @Test func notYetValidLeafHintsAtTheClock() {
        let future = Self.cert(notBefore: Self.now + 2 * Self.day, notAfter: Self.now + 92 * Self.day)
        let j = Self.judge(Self.evidence(chain: [future, Self.intermediate]))
        #expect(j.cause?.id == "tls-not-yet-valid-certificate")
        #expect(j.cause?.data["notBefore"] == .string((Self.now + 2 * Self.day).formatted(Date.ISO8601FormatStyle())))
        #expect(j.cause?.summary.contains("clock") == true)
        #expect(j.cause?.fixes.first?.contains("clock") == true)
        Self.expectRequiredData(j.cause)
    }

    // MARK: trust

    @Test func selfSignedIsUntrusted() {
        let leaf = Self.cert(cn: "example.com", issuer: "example.com")
        let j = Self.judge(Self.evidence(chain: [leaf], trust: .selfSigned))
        #expect(j.cause?.id == "tls-untrusted-certificate")
        #expect(j.cause?.title.contains("self-signed") == true)
        #expect(j.cause?.fixes.contains { $0.contains("--ca-file") } == true)
        #expect(j.cause?.confidence == .high)
    }

    @Test func unknownRootIsUntrusted() {
        let j = Self.judge(Self.evidence(trust: .unknownRoot("Corp Internal Root")))
        #expect(j.cause?.id == "tls-untrusted-certificate")
        #expect(j.cause?.title.contains("Corp Internal Root") == true)
        #expect(j.cause?.data["root"] == "Corp Internal Root")
    }

    @Test func missingIssuerIsAnIncompleteChainWithMediumConfidence() {
        let j = Self.judge(Self.evidence(chain: [Self.cert()], trust: .missingIssuer("R3")))
        #expect(j.cause?.id == "tls-incomplete-chain")
        #expect(j.cause?.confidence == .medium)
        #expect(j.cause?.fixes.first == "serve the full chain (fullchain.pem / ssl_certificate with intermediates)")
        #expect(j.cause?.summary.contains("--ca-file") == true)
        #expect(j.cause?.evidence.contains { $0.contains("http://r3.i.lencr.org/") } == true)
        #expect(j.cause?.data["issuer"] == "R3")
        #expect(j.stage.details["trust"]?["result"] == "missing-issuer")
    }

    @Test func failedChainIsUntrustedWithTheReason() {
        let j = Self.judge(Self.evidence(trust: .failed("R3 is not a CA")))
        #expect(j.cause?.id == "tls-untrusted-certificate")
        #expect(j.cause?.summary.contains("R3 is not a CA") == true)
    }

    // MARK: host name

    @Test func hostnameMismatchListsTheNames() {
        let other = Self.cert(cn: "other.example", names: ["other.example", "www.other.example"], ips: ["192.0.2.1"])
        let j = Self.judge(Self.evidence(chain: [other, Self.intermediate]))
        #expect(j.cause?.id == "tls-hostname-mismatch")
        #expect(j.cause?.data["names"] == .strings(["other.example", "www.other.example", "192.0.2.1"]))
        #expect(j.cause?.title == "The certificate does not cover example.com")
        #expect(j.stage.details["hostnameMatches"] == false)
        Self.expectRequiredData(j.cause)
    }

    @Test func wildcardOneLevelTooShallowIsExplained() {
        let wildcard = Self.cert(cn: "*.example.com", names: ["*.example.com"])
        let deep = Target(url: "wss://a.b.example.com/ws", host: "a.b.example.com", port: 443, secure: true, path: "/ws")
        let j = TLSRules.judge(Self.evidence(chain: [wildcard, Self.intermediate]), target: deep, insecure: false)
        #expect(j.cause?.id == "tls-hostname-mismatch")
        #expect(j.cause?.summary.contains("exactly one label") == true)
        let shallow = Target(url: "wss://ws.example.com/ws", host: "ws.example.com", port: 443, secure: true, path: "/ws")
        #expect(TLSRules.judge(Self.evidence(chain: [wildcard, Self.intermediate]), target: shallow, insecure: false).cause == nil)
    }

    // MARK: --insecure

    @Test func insecureKeepsTheCauseButWarns() {
        let j = Self.judge(Self.evidence(chain: [Self.cert()], trust: .missingIssuer("R3")), insecure: true)
        #expect(j.cause?.id == "tls-incomplete-chain")
        #expect(j.stage.status == .warning)
        #expect(j.stage.summary.contains("verification bypassed"))
    }

    // MARK: findings

    @Test func certificateExpiringWithinFourteenDaysIsAWarning() throws {
        let soon = Self.cert(notBefore: Self.now - 80 * Self.day, notAfter: Self.now + 5 * Self.day)
        let j = Self.judge(Self.evidence(chain: [soon, Self.intermediate]))
        #expect(j.cause == nil)
        #expect(j.stage.status == .warning)
        let finding = try #require(j.findings.first)
        #expect(finding.id == "certificate-expires-soon")
        #expect(finding.severity == .warning)
        #expect(finding.stage == "tls")
        #expect(finding.message.contains("5 days"))
        #expect(finding.data["notAfter"] != nil)

        let later = Self.cert(notAfter: Self.now + 15 * Self.day)
        #expect(Self.judge(Self.evidence(chain: [later, Self.intermediate])).findings.isEmpty)
    }

    @Test(arguments: ["TLS 1.0", "TLS 1.1", "TLSv1", "TLSv1.1"])
    func legacyTLSVersionIsAWarning(version: String) {
        let j = Self.judge(Self.evidence(version: version))
        #expect(j.cause == nil)
        #expect(j.findings.map(\.id) == ["tls-legacy-version"])
        #expect(j.findings.first?.severity == .warning)
    }

    @Test(arguments: ["TLS 1.2", "TLS 1.3"])
    func currentTLSVersionsAreFine(version: String) {
        #expect(Self.judge(Self.evidence(version: version)).findings.isEmpty)
    }
}
