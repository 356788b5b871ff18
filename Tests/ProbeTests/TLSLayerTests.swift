import Diagnosis
import Foundation
import NIOCore
import NIOPosix
import Testing

@testable import Probe

/// Real handshakes on 127.0.0.1 against servers built from `TestPKI`: each broken setup must be
/// told apart by what the client observes, and a good handshake must leave a usable channel.
@Suite(.timeLimit(.minutes(1)))
struct TLSLayerTests {
    static let timeout = TimeAmount.seconds(5)

    // MARK: trust classification

    @Test func trustedChainWithCAFileRoot() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.leaf, pki.intermediate], pki: pki, trustRoot: true)
        #expect(result.outcome.succeeded)
        #expect(result.outcome.version == "TLS 1.3")
        #expect(result.outcome.alpn == "http/1.1")
        #expect(result.outcome.cipher?.hasPrefix("TLS_") == true)
        #expect(result.outcome.serverName == "localhost")
        #expect(result.evidence.trust == .trusted(root: TestPKI.rootName))
        #expect(result.evidence.extraRoots == 1)
        #expect(result.evidence.chain.count == 2)
        let leaf = try #require(result.evidence.chain.first)
        #expect(leaf.dnsNames == ["localhost"])
        #expect(leaf.ipAddresses == ["127.0.0.1", "::1"])
        #expect(leaf.isCA == false && result.evidence.chain[1].isCA)
        #expect(leaf.issuerURLs == [TestPKI.issuerURL])
        #expect(leaf.sha256.count == 64)

        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause == nil)
        #expect(judgement.stage.status == .passed)
        #expect(judgement.stage.summary.contains("TLS 1.3, ALPN http/1.1, chain of 2 trusted by \(TestPKI.rootName)"))
    }

    @Test func selfSignedCertificate() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.selfSigned], pki: pki, trustRoot: true)
        #expect(result.outcome.succeeded)
        #expect(result.evidence.trust == .selfSigned)
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-untrusted-certificate")
    }

    @Test func leafWithoutIntermediateIsAnIncompleteChain() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.leaf], pki: pki, trustRoot: true)
        #expect(result.evidence.trust == .missingIssuer(TestPKI.intermediateName))
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-incomplete-chain")
        #expect(judgement.cause?.confidence == .medium)
    }

    @Test func chainEndingInAnUntrustedRootIsAnUnknownRoot() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.leaf, pki.intermediate, pki.root], pki: pki, trustRoot: false)
        #expect(result.evidence.trust == .unknownRoot(TestPKI.rootName))
        #expect(result.evidence.chain.count == 3)
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-untrusted-certificate")
    }

    // MARK: validity and host name (trusted chains, judged by the rules)

    @Test func expiredLeafIsReportedAsExpiredNotUntrusted() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.expiredLeaf, pki.intermediate], pki: pki, trustRoot: true)
        #expect(result.evidence.trust == .trusted(root: TestPKI.rootName))
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-expired-certificate")
        let notAfter = pki.expiredLeaf.certificate.notValidAfter.formatted(Date.ISO8601FormatStyle())
        #expect(judgement.cause?.data["notAfter"]?.stringValue == notAfter)
        #expect(judgement.stage.status == .failed)
    }

    @Test func notYetValidLeaf() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.notYetValidLeaf, pki.intermediate], pki: pki, trustRoot: true)
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-not-yet-valid-certificate")
        #expect(judgement.cause?.data["notBefore"]?.stringValue != nil)
    }

    @Test func wrongHostLeaf() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(serving: [pki.wrongHostLeaf, pki.intermediate], pki: pki, trustRoot: true)
        #expect(result.evidence.trust == .trusted(root: TestPKI.rootName))
        let judgement = TLSRules.judge(result.evidence, target: Self.target, insecure: false)
        #expect(judgement.cause?.id == "tls-hostname-mismatch")
        #expect(judgement.cause?.data["names"] == .strings(["other.example"]))
    }

    @Test func ipLiteralSendsNoSNIAndMatchesIPSAN() async throws {
        let pki = try TestPKI()
        let result = try await Self.probe(
            serving: [pki.leaf, pki.intermediate], pki: pki, trustRoot: true, host: "127.0.0.1")
        #expect(result.outcome.succeeded)
        #expect(result.outcome.serverName == nil)
        let target = Target(url: "wss://127.0.0.1/ws", host: "127.0.0.1", port: 443, secure: true, path: "/ws")
        #expect(TLSRules.judge(result.evidence, target: target, insecure: false).cause == nil)
    }

    // MARK: handshake failures

    @Test func plaintextHTTPServerAnswer() async throws {
        let server = try await PlaintextTestServer.start()
        let outcome = try await Self.handshake(port: server.port, host: "localhost")
        await server.shutdown()
        guard case .plaintextAnswer(let text) = outcome.failure else {
            Issue.record("expected a plaintext answer, got \(String(describing: outcome.failure))")
            return
        }
        #expect(text.hasPrefix("HTTP/1.1 400 Bad Request"))
        var evidence = TLSEvidence(checkedAt: Date())
        evidence.handshakeFailure = outcome.failure
        #expect(TLSRules.judge(evidence, target: Self.target, insecure: false).cause?.id == "tls-to-plaintext-server")
    }

    @Test func silentServerTimesOut() async throws {
        let server = try await PlaintextTestServer.start(.silent)
        let started = ContinuousClock.now
        let outcome = try await Self.handshake(port: server.port, host: "localhost", timeout: .milliseconds(300))
        await server.shutdown()
        #expect(outcome.failure == .timeout)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func serverHangingUpIsClosed() async throws {
        let server = try await PlaintextTestServer.start(.closeOnData)
        let outcome = try await Self.handshake(port: server.port, host: "localhost")
        await server.shutdown()
        #expect(outcome.failure == .closed)
    }

    // MARK: application data after the handshake

    /// The probe wraps the channel in `NIOAsyncChannel` first (to speak CONNECT to a proxy) and
    /// adds TLS at `.first` afterwards: bytes written and read through the async channel must be
    /// encrypted and decrypted by the TLS handler underneath.
    @Test func applicationBytesFlowWhenTLSIsInsertedUnderAnAsyncChannel() async throws {
        let pki = try TestPKI()
        let server = try await TLSTestServer.start(serving: [pki.leaf, pki.intermediate])
        let asyncChannel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let outcome = await ClientTLS.handshake(on: asyncChannel.channel, serverHostname: "localhost", timeout: Self.timeout)
        #expect(outcome.succeeded)
        let answer = try await Self.exchange(on: asyncChannel, send: "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        await server.shutdown()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
        #expect(answer.hasSuffix("ok"))
    }

    @Test func applicationBytesFlowWhenTheChannelIsWrappedAfterTLS() async throws {
        let pki = try TestPKI()
        let server = try await TLSTestServer.start(serving: [pki.leaf, pki.intermediate])
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: server.port).get()
        let outcome = await ClientTLS.handshake(on: channel, serverHostname: "localhost", timeout: Self.timeout)
        #expect(outcome.succeeded)
        let asyncChannel = try await channel.eventLoop.submit {
            try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
        }.get()
        let answer = try await Self.exchange(on: asyncChannel, send: "GET / HTTP/1.1\r\n\r\n")
        await server.shutdown()
        #expect(answer.hasPrefix("HTTP/1.1 200 OK"))
    }

    // MARK: trust store

    @Test func missingCAFileIsAClearError() async throws {
        do {
            _ = try await TrustStore.load(caFile: "/nonexistent", includeSystemRoots: false)
            Issue.record("loading /nonexistent should fail")
        } catch let error as TrustStoreError {
            #expect(error == .noSuchFile(path: "/nonexistent"))
            #expect(error.description == "--ca-file /nonexistent: no such file")
        }
    }

    @Test func caFileWithoutCertificatesIsAClearError() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-empty-\(UUID()).pem").path
        try "not a certificate\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        await #expect(throws: TrustStoreError.noCertificates(path: path)) {
            try await TrustStore.load(caFile: path, includeSystemRoots: false)
        }
        #expect(TrustStoreError.noCertificates(path: path).description == "--ca-file \(path): contains no PEM certificates")
        await #expect(throws: TrustStoreError.isDirectory(path: "/tmp")) {
            try await TrustStore.load(caFile: "/tmp", includeSystemRoots: false)
        }
    }

    @Test func caFileRootsAreCounted() async throws {
        let pki = try TestPKI()
        let path = try pki.writeCAFile([pki.root, pki.intermediate])
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = try await TrustStore.load(caFile: path, includeSystemRoots: false)
        #expect(store.extraRootCount == 2)
        #expect(store.systemRootCount == 0)
    }

    @Test func systemRootsAreLoadedWhenTheMachineHasABundle() async throws {
        let store = try await TrustStore.load(caFile: nil)
        if store.systemBundlePath != nil {
            #expect(store.systemRootCount > 10)
        }
        #expect(store.extraRootCount == 0)
    }

    // MARK: trust evaluation without a handshake

    @Test func chainThroughANonCACertificateFailsWithTheReason() async throws {
        let pki = try TestPKI()
        let store = TrustStore(systemRoots: [], extraRoots: [pki.root.certificate])
        let leaf = try pki.issueLeaf(signedBy: pki.wrongHostLeaf)
        let trust = await CertificateInspector.evaluateTrust(
            servedChain: [leaf.der, pki.wrongHostLeaf.der, pki.intermediate.der], store: store)
        guard case .failed(let reason) = trust else {
            Issue.record("expected a policy failure, got \(trust)")
            return
        }
        #expect(!reason.isEmpty)
    }

    @Test func expiredCertificatesStillBuildATrustedChain() async throws {
        let pki = try TestPKI()
        let store = TrustStore(systemRoots: [], extraRoots: [pki.root.certificate])
        let trust = await CertificateInspector.evaluateTrust(
            servedChain: [pki.expiredLeaf.der, pki.intermediate.der], store: store)
        #expect(trust == .trusted(root: TestPKI.rootName))
    }

    @Test func garbageInTheServedChainIsAFailureNotACrash() async throws {
        let store = TrustStore(systemRoots: [], extraRoots: [])
        let trust = await CertificateInspector.evaluateTrust(servedChain: [[0x30, 0x03, 0x01, 0x01, 0xFF]], store: store)
        guard case .failed = trust else {
            Issue.record("expected .failed, got \(trust)")
            return
        }
        #expect(CertificateInspector.summaries(der: [[0x30, 0x00]]).isEmpty)
    }

    // MARK: helpers

    static let target = Target(url: "wss://localhost/ws", host: "localhost", port: 443, secure: true, path: "/ws")

    struct ProbeResult {
        var outcome: TLSHandshakeOutcome
        var evidence: TLSEvidence
    }

    /// Serves `chain`, handshakes with it and builds the evidence against a store holding the
    /// test root (`trustRoot`) or nothing — never the machine's roots, so results do not depend on it.
    static func probe(
        serving chain: [TestPKI.Identity], pki: TestPKI, trustRoot: Bool, host: String = "localhost"
    ) async throws -> ProbeResult {
        let server = try await TLSTestServer.start(serving: chain)
        let outcome = try await handshake(port: server.port, host: host)
        await server.shutdown()
        let store: TrustStore
        if trustRoot {
            let path = try pki.writeCAFile()
            defer { try? FileManager.default.removeItem(atPath: path) }
            store = try await TrustStore.load(caFile: path, includeSystemRoots: false)
        } else {
            store = try await TrustStore.load(caFile: nil, includeSystemRoots: false)
        }
        let evidence = await TLSEvidenceBuilder.evidence(from: outcome, trustStore: store)
        return ProbeResult(outcome: outcome, evidence: evidence)
    }

    static func handshake(port: Int, host: String, timeout: TimeAmount = timeout) async throws -> TLSHandshakeOutcome {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port).get()
        let outcome = await ClientTLS.handshake(on: channel, serverHostname: host, timeout: timeout)
        try? await channel.close()
        return outcome
    }

    /// Sends `text` and collects the answer until the peer's `Content-Length` body is complete.
    static func exchange(on channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, send text: String) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: text))
            var received = ""
            for try await var chunk in inbound {
                received += chunk.readString(length: chunk.readableBytes) ?? ""
                if received.hasSuffix("\r\n\r\nok") { break }
            }
            return received
        }
    }
}

/// The pure pieces of the TLS layer, with hand-made bytes.
struct TLSLayerUnitTests {
    @Test func sniffsPlaintextAlertsAndServerHello() {
        #expect(TLSRecordSniffer.read(Array("HTTP/1.1 400 Bad Request\r\n".utf8)) == .plaintext("HTTP/1.1 400 Bad Request\r\n"))
        #expect(TLSRecordSniffer.read([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28]) == .alert("handshake failure"))
        #expect(TLSRecordSniffer.read([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x46]) == .alert("protocol version"))
        var hello: [UInt8] = [0x16, 0x03, 0x03, 0x00, 0x50, 0x02, 0x00, 0x00, 0x4c, 0x03, 0x03]
        hello += Array(repeating: 0xAB, count: 32)  // random
        hello += [0x20] + Array(repeating: 0x01, count: 32)  // session id
        hello += [0x13, 0x01]
        #expect(TLSRecordSniffer.read(hello) == .serverHello(cipherSuite: 0x1301))
        #expect(TLSRecordSniffer.cipherSuiteName(0x1301) == "TLS_AES_128_GCM_SHA256")
        #expect(TLSRecordSniffer.cipherSuiteName(0x00FF) == "0x00FF")
        #expect(TLSRecordSniffer.read([0x00, 0xFF, 0x13, 0x99, 0x01]) == .binary(hex: "00 ff 13 99 01"))
    }

    @Test func classifiesFailures() {
        #expect(TLSFailureClassifier.classify(.timeout, firstBytes: []) == .timeout)
        #expect(TLSFailureClassifier.classify(.closed, firstBytes: []) == .closed)
        #expect(TLSFailureClassifier.classify(.completed(alpn: nil), firstBytes: []) == nil)
        #expect(
            TLSFailureClassifier.classify(.closed, firstBytes: Array("SSH-2.0-OpenSSH_9.6\r\n".utf8))
                == .plaintextAnswer("SSH-2.0-OpenSSH_9.6\r\n"))
        let text = "Error: 268435728 error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE at x.c:1"
        #expect(TLSFailureClassifier.reasonCode(in: text) == "SSLV3_ALERT_HANDSHAKE_FAILURE")
        #expect(TLSFailureClassifier.readable("WRONG_VERSION_NUMBER") == "wrong version number")
    }

    @Test func formatsIPAddressSANs() {
        #expect(IPAddressText.format([10, 0, 0, 1]) == "10.0.0.1")
        #expect(IPAddressText.format(Array(repeating: 0, count: 15) + [1]) == "::1")
        #expect(IPAddressText.format([0x20, 0x01, 0x0d, 0xb8] + Array(repeating: 0, count: 11) + [1]) == "2001:db8::1")
        #expect(IPAddressText.format([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]) == "2001:db8:0:1::1")
    }

    @Test func sniIsLeftOutForIPLiterals() {
        #expect(ClientTLS.sniName(for: "example.com") == "example.com")
        #expect(ClientTLS.sniName(for: "example.com.") == "example.com")
        #expect(ClientTLS.sniName(for: "127.0.0.1") == nil)
        #expect(ClientTLS.sniName(for: "::1") == nil)
        #expect(ClientTLS.sniName(for: "[::1]") == nil)
    }
}
