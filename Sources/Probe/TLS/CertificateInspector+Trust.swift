import Diagnosis
import NIOSSL
import SwiftASN1
// The validity-free RFC 5280 policy is SPI: validity times are judged by `TLSRules` from the
// summaries, so that an expired certificate from a trusted CA is reported as expired (the thing to
// fix) rather than as a chain that cannot be built.
@_spi(DisableValidityCheck) import X509

extension CertificateInspector {
    /// Builds a chain from the served certificates to a trusted root and says what stands in the
    /// way when there is none. Signatures, CA flags, path lengths and name constraints are checked;
    /// validity times and the host name are not (the rules judge those).
    ///
    /// When no chain is found, the served certificates are walked from the leaf, issuer by issuer,
    /// to name the gap precisely: a leaf that signs itself (`.selfSigned`), a chain that ends in a
    /// root nobody trusts (`.unknownRoot`), or a last certificate whose issuer was not sent
    /// (`.missingIssuer`: usually the intermediate left out of the server's chain file).
    public static func evaluateTrust(servedChain: [NIOSSLCertificate], store: TrustStore) async -> TrustResult {
        var der: [[UInt8]] = []
        for (index, certificate) in servedChain.enumerated() {
            guard let bytes = try? certificate.toDERBytes() else {
                return .failed("served certificate \(index + 1) cannot be encoded")
            }
            der.append(bytes)
        }
        return await evaluateTrust(servedChain: der, store: store)
    }

    public static func evaluateTrust(servedChain: [[UInt8]], store: TrustStore) async -> TrustResult {
        guard !servedChain.isEmpty else { return .failed("the server sent no certificate") }
        var served: [Certificate] = []
        for (index, der) in servedChain.enumerated() {
            do {
                served.append(try Certificate(derEncoded: der))
            } catch {
                return .failed("served certificate \(index + 1) is not valid X.509 (\(error))")
            }
        }
        let leaf = served[0]
        var verifier = Verifier(rootCertificates: store.certificateStore) { ChainStructurePolicy() }
        let result = await verifier.validate(leaf: leaf, intermediates: CertificateStore(served.dropFirst()))
        switch result {
        case .validCertificate(let chain):
            return .trusted(root: displayName(chain.root.subject))
        case .couldNotValidate(let failures):
            // Policy failures only arise for candidate chains that reached a trusted root: the
            // chain exists but breaks a rule (an intermediate without the CA flag, a name constraint).
            if let failure = failures.first {
                return .failed(failure.policyFailureReason.description)
            }
            return classifyGap(leaf: leaf, served: served, store: store)
        }
    }

    /// Names why no chain reaches a trusted root, from the served certificates alone.
    static func classifyGap(leaf: Certificate, served: [Certificate], store: TrustStore) -> TrustResult {
        if leaf.subject == leaf.issuer, leaf.publicKey.isValidSignature(leaf.signature, for: leaf) {
            return .selfSigned
        }
        var remaining = Array(served.dropFirst())
        var tip = leaf
        var length = 1
        while tip.subject != tip.issuer {
            let candidates = remaining.indices.filter { remaining[$0].subject == tip.issuer }
            guard !candidates.isEmpty else { break }
            guard let next = candidates.first(where: { remaining[$0].publicKey.isValidSignature(tip.signature, for: tip) })
            else {
                return .failed(
                    "\(displayName(tip.subject)) is not signed by the served \(displayName(tip.issuer)) "
                        + "(signature does not verify: wrong or re-keyed intermediate)")
            }
            tip = remaining.remove(at: next)
            length += 1
        }
        if tip.subject == tip.issuer {
            guard tip.publicKey.isValidSignature(tip.signature, for: tip) else {
                return .failed("\(displayName(tip.subject)) names itself as issuer but does not sign itself")
            }
            return length == 1 ? .selfSigned : .unknownRoot(displayName(tip.subject))
        }
        if !store.roots(named: tip.issuer).isEmpty {
            return .failed(
                "\(displayName(tip.subject)) names the trusted \(displayName(tip.issuer)) as issuer, but its "
                    + "signature does not verify with that root")
        }
        return .missingIssuer(displayName(tip.issuer))
    }
}

/// RFC 5280 chain rules without the clock, plus the extensions wsdoctor judges elsewhere.
///
/// `Verifier` rejects any certificate with a critical extension its policy does not claim to
/// handle. A critical subjectAltName (certificates with an empty subject) is handled — by the
/// host-name rule — and a critical extendedKeyUsage is enforced here, so such certificates are
/// judged on their merits instead of failing as "unhandled critical extension".
struct ChainStructurePolicy: VerifierPolicy {
    private var rfc5280 = RFC5280Policy.withValidityCheckDisabled()

    var verifyingCriticalExtensions: [ASN1ObjectIdentifier] {
        rfc5280.verifyingCriticalExtensions + [
            .X509ExtensionID.subjectAlternativeName, .X509ExtensionID.extendedKeyUsage,
        ]
    }

    mutating func chainMeetsPolicyRequirements(chain: UnverifiedCertificateChain) async -> PolicyEvaluationResult {
        if case .failsToMeetPolicy(let reason) = rfc5280.chainMeetsPolicyRequirements(chain: chain) {
            return .failsToMeetPolicy(reason: reason)
        }
        let leaf = chain.leaf
        do {
            if let usages = try leaf.extensions.extendedKeyUsage,
                !usages.contains(.serverAuth), !usages.contains(.any)
            {
                let name = CertificateInspector.displayName(leaf.subject)
                return .failsToMeetPolicy(
                    reason: "the certificate for \(name) is not for TLS servers (extended key usage \(usages))")
            }
        } catch {
            return .failsToMeetPolicy(reason: "the leaf's extended key usage cannot be parsed: \(error)")
        }
        return .meetsPolicy
    }
}
