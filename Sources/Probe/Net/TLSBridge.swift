import Diagnosis
import Foundation
import NIOCore

/// The dialer's view of TLS: run the handshake on a connected channel, build the
/// evidence, and say whether the probe may go on (it may when the chain passes, or
/// when `--insecure` asks to continue past a failure that is still reported).
struct TLSBridge: Sendable {
    let store: TrustStore
    let insecure: Bool

    static func make(caFile: String?, insecure: Bool) async throws -> TLSBridge {
        TLSBridge(store: try await TrustStore.load(caFile: caFile), insecure: insecure)
    }

    func handshake(on channel: any Channel, target: Target, timeout: Double) async -> (evidence: TLSEvidence, proceed: Bool) {
        let outcome = await ClientTLS.handshake(
            on: channel, serverHostname: target.host, timeout: .nanoseconds(Int64(timeout * 1e9)))
        let evidence = await TLSEvidenceBuilder.evidence(from: outcome, trustStore: store)
        guard outcome.succeeded else { return (evidence, false) }
        let verdict = TLSRules.judge(evidence, target: target, insecure: insecure)
        return (evidence, verdict.cause == nil || insecure)
    }
}
