import Diagnosis
import Foundation
import NIOSSL
import Testing
@testable import Probe

/// Every TLS cause through the whole probe: a WebSocket server on 127.0.0.1 serving a
/// generated chain that is broken in one precise way.
@Suite("TLS causes, reproduced")
struct TLSCauseTests {
    static let webSocket = FaultBehaviors.echoWebSocket

    private func context(_ chain: [TestPKI.Identity], key: TestPKI.Identity) throws -> NIOSSLContext {
        let config = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0.nioCertificate) }, privateKey: .privateKey(key.nioKey))
        return try NIOSSLContext(configuration: config)
    }

    private func diagnoseTLS(_ pki: TestPKI, chain: [TestPKI.Identity], host: String = "localhost", caFile: Bool = true,
                             insecure: Bool = false) async throws -> Report {
        let ca = try pki.writeCAFile()
        defer { try? FileManager.default.removeItem(atPath: ca) }
        return try await FaultServer.with(tls: try context(chain, key: chain[0]), Self.webSocket) { port in
            await diagnose("wss://\(host):\(port)/ws") {
                if caFile { $0.caFile = ca }
                $0.insecure = insecure
            }
        }
    }

    @Test func trustedChainIsHealthy() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.leaf, pki.intermediate])
        expectCause(report, .healthy)
        #expect(stage(report, .tls)?.status == .passed)
    }

    @Test func trustedChainOnAnIPAddressIsHealthy() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.leaf, pki.intermediate], host: "127.0.0.1")
        expectCause(report, .healthy)
    }

    @Test func expiredLeafIsReportedAsExpired() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.expiredLeaf, pki.intermediate])
        expectCause(report, .tlsExpiredCertificate)
        #expect(stage(report, .handshake)?.status == .skipped)
    }

    @Test func futureLeafIsNotYetValid() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.notYetValidLeaf, pki.intermediate])
        expectCause(report, .tlsNotYetValidCertificate)
    }

    @Test func selfSignedIsUntrusted() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.selfSigned], caFile: false)
        expectCause(report, .tlsUntrustedCertificate)
    }

    @Test func leafWithoutIntermediateIsIncompleteChain() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.leaf])
        expectCause(report, .tlsIncompleteChain)
    }

    @Test func wrongHostIsHostnameMismatch() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.wrongHostLeaf, pki.intermediate])
        expectCause(report, .tlsHostnameMismatch)
        #expect(report.cause.data["names"] == .array(["other.example"]))
    }

    @Test func insecureContinuesPastAFailureButStillReportsIt() async throws {
        let pki = try TestPKI()
        let report = try await diagnoseTLS(pki, chain: [pki.selfSigned], caFile: false, insecure: true)
        expectCause(report, .tlsUntrustedCertificate)
        #expect(stage(report, .tls)?.status == .warning)
        #expect(stage(report, .handshake)?.status == .passed)
        #expect(stage(report, .exchange)?.status == .passed)
    }

    /// What a server with no cipher or version in common answers to the ClientHello:
    /// a fatal handshake_failure alert (TLS record 21, alert 40).
    @Test func fatalAlertIsHandshakeFailure() async throws {
        let report = try await FaultServer.with({ c in
            _ = await c.inbox.next(deadline: .now + .seconds(5))
            await c.send(bytes: [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])
            await c.close()
        }) { port in await diagnose("wss://127.0.0.1:\(port)/ws") }
        expectCause(report, .tlsHandshakeFailure)
        #expect(report.cause.evidence.joined(separator: " ").lowercased().contains("handshake"))
    }

    @Test func wssToAPlaintextPortIsTLSToPlaintextServer() async throws {
        let report = try await FaultServer.with({ c in
            // Like nginx or any HTTP server: garbage in, 400 out.
            _ = await c.inbox.next(deadline: .now + .seconds(5))
            await c.respond(400, "Bad Request", body: "bad request")
            await c.close()
        }) { port in await diagnose("wss://127.0.0.1:\(port)/ws") }
        expectCause(report, .tlsToPlaintextServer)
    }

    @Test func wsToATLSPortIsPlaintextToTLSServer() async throws {
        let pki = try TestPKI()
        let report = try await FaultServer.with(tls: try context([pki.leaf, pki.intermediate], key: pki.leaf), Self.webSocket) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws") { $0.health = .none }
        }
        expectCause(report, .plaintextToTLSServer)
    }
}
