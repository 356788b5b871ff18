import Diagnosis
import Foundation

/// Assembles the `tls` stage's evidence: the handshake as observed, each served certificate
/// described, and the trust verdict of the served chain against the roots in use.
public enum TLSEvidenceBuilder {
    /// - Parameter checkedAt: the instant validity is judged against (recorded in the evidence,
    ///   so the rules and the report agree on "now").
    public static func evidence(
        from outcome: TLSHandshakeOutcome, trustStore: TrustStore, checkedAt: Date = Date()
    ) async -> TLSEvidence {
        var evidence = TLSEvidence(checkedAt: checkedAt)
        evidence.durationMs = outcome.durationMs
        evidence.version = outcome.version
        evidence.alpn = outcome.alpn
        evidence.cipher = outcome.cipher
        evidence.serverName = outcome.serverName
        evidence.handshakeFailure = outcome.failure
        evidence.extraRoots = trustStore.extraRootCount
        evidence.chain = CertificateInspector.summaries(der: outcome.servedChain)
        if !outcome.servedChain.isEmpty {
            evidence.trust = await CertificateInspector.evaluateTrust(servedChain: outcome.servedChain, store: trustStore)
        }
        return evidence
    }
}
