import Crypto
import Diagnosis
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// Describes served certificates as plain `CertificateSummary` values, so that the rules can
/// judge validity times and host names without any X.509 library, and so that the report shows
/// what was actually served (names, dates, fingerprints) for people to compare with their files.
public enum CertificateInspector {
    /// Summaries of a served chain, in served order. A certificate that does not parse is left
    /// out here; `evaluateTrust` reports it.
    public static func summaries(_ chain: [NIOSSLCertificate]) -> [CertificateSummary] {
        summaries(der: chain.compactMap { try? $0.toDERBytes() })
    }

    public static func summaries(der chain: [[UInt8]]) -> [CertificateSummary] {
        chain.compactMap { der in
            guard let certificate = try? Certificate(derEncoded: der) else { return nil }
            return summary(of: certificate, der: der)
        }
    }

    /// - Parameter der: the certificate's encoding as served, for the fingerprint.
    public static func summary(of certificate: Certificate, der: [UInt8]) -> CertificateSummary {
        var dnsNames: [String] = []
        var ipAddresses: [String] = []
        // Unparseable extensions are treated as absent: the summary describes, the verifier judges.
        if let names = try? certificate.extensions.subjectAlternativeNames {
            for name in names {
                switch name {
                case .dnsName(let dns): dnsNames.append(dns)
                case .ipAddress(let octets): ipAddresses.append(IPAddressText.format(Array(octets.bytes)))
                default: continue
                }
            }
        }
        var isCA = false
        if case .isCertificateAuthority = try? certificate.extensions.basicConstraints { isCA = true }
        var issuerURLs: [String] = []
        if let aia = try? certificate.extensions.authorityInformationAccess {
            for access in aia where access.method == .issuingCA {
                if case .uniformResourceIdentifier(let url) = access.location { issuerURLs.append(url) }
            }
        }
        return CertificateSummary(
            subject: certificate.subject.description,
            issuer: certificate.issuer.description,
            serial: hex(Array(certificate.serialNumber.bytes), uppercase: true),
            notBefore: certificate.notValidBefore,
            notAfter: certificate.notValidAfter,
            dnsNames: dnsNames,
            ipAddresses: ipAddresses,
            isCA: isCA,
            selfIssued: certificate.subject == certificate.issuer,
            sha256: hex(Array(SHA256.hash(data: der)), uppercase: false),
            issuerURLs: issuerURLs)
    }

    /// The name people recognise a certificate by: its Common Name, else the whole DN.
    static func displayName(_ name: DistinguishedName) -> String {
        for rdn in name.reversed() {
            for attribute in rdn where attribute.type == .RDNAttributeType.commonName {
                if let text = String(attribute.value), !text.isEmpty { return text }
            }
        }
        let full = name.description
        return full.isEmpty ? "(empty name)" : full
    }

    static func hex(_ bytes: [UInt8], uppercase: Bool) -> String {
        let digits = Array((uppercase ? "0123456789ABCDEF" : "0123456789abcdef").utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
