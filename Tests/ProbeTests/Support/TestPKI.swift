import Crypto
import Foundation
import NIOSSL
import SwiftASN1
import X509

/// A throwaway PKI made fresh for each test run, so TLS tests never depend on files, the
/// network or the machine's trust store, and can produce every broken certificate on demand:
///
///     root (self-signed CA) ─ intermediate (CA) ─ leaf (localhost, 127.0.0.1, ::1)
///                                              ├─ expiredLeaf, notYetValidLeaf, expiringSoonLeaf
///                                              └─ wrongHostLeaf (other.example only)
///     selfSigned (localhost, signs itself)
struct TestPKI: Sendable {
    /// A certificate with its private key, in every form the tests need.
    struct Identity: Sendable {
        let certificate: Certificate
        /// PEM rather than the key itself: swift-crypto's keys are not `Sendable`.
        let keyPEM: String

        init(certificate: Certificate, key: P256.Signing.PrivateKey) {
            self.certificate = certificate
            self.keyPEM = key.pemRepresentation
        }

        var key: P256.Signing.PrivateKey { try! P256.Signing.PrivateKey(pemRepresentation: keyPEM) }

        var der: [UInt8] {
            var serializer = DER.Serializer()
            try! serializer.serialize(certificate)  // A certificate we just built always serializes.
            return serializer.serializedBytes
        }

        var pem: String { try! certificate.serializeAsPEM().pemString }
        var nioCertificate: NIOSSLCertificate { try! NIOSSLCertificate(bytes: der, format: .der) }
        var nioKey: NIOSSLPrivateKey { try! NIOSSLPrivateKey(bytes: Array(keyPEM.utf8), format: .pem) }
    }

    static let rootName = "wsdoctor Test Root CA"
    static let intermediateName = "wsdoctor Test Intermediate CA"
    static let issuerURL = "http://pki.invalid/intermediate.der"

    let now: Date
    let root: Identity
    let intermediate: Identity
    let leaf: Identity
    let expiredLeaf: Identity
    let notYetValidLeaf: Identity
    let expiringSoonLeaf: Identity
    let wrongHostLeaf: Identity
    let selfSigned: Identity

    init(now: Date = Date()) throws {
        self.now = now
        let day: TimeInterval = 86_400
        let root = try Self.makeCA(name: Self.rootName, issuer: nil, now: now)
        let intermediate = try Self.makeCA(name: Self.intermediateName, issuer: root, now: now)
        self.root = root
        self.intermediate = intermediate
        leaf = try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [[127, 0, 0, 1], Array(repeating: 0, count: 15) + [1]],
            issuer: intermediate, notBefore: now - day, notAfter: now + 90 * day)
        expiredLeaf = try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [[127, 0, 0, 1]], issuer: intermediate,
            notBefore: now - 100 * day, notAfter: now - 3 * day)
        notYetValidLeaf = try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [[127, 0, 0, 1]], issuer: intermediate,
            notBefore: now + 2 * day, notAfter: now + 92 * day)
        expiringSoonLeaf = try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [[127, 0, 0, 1]], issuer: intermediate,
            notBefore: now - 80 * day, notAfter: now + 5 * day)
        wrongHostLeaf = try Self.makeLeaf(
            cn: "other.example", dns: ["other.example"], ips: [], issuer: intermediate,
            notBefore: now - day, notAfter: now + 90 * day)
        selfSigned = try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [[127, 0, 0, 1]], issuer: nil,
            notBefore: now - day, notAfter: now + 90 * day)
    }

    /// A `--ca-file` holding the root, written to a fresh temporary path.
    func writeCAFile(_ identities: [Identity]? = nil) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("wsdoctor-ca-\(UUID().uuidString).pem").path
        try (identities ?? [root]).map(\.pem).joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    private static func makeCA(name: String, issuer: Identity?, now: Date) throws -> Identity {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            CountryName("ZZ")
            OrganizationName("wsdoctor tests")
            CommonName(name)
        }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: now - 3_650 * 86_400, notValidAfter: now + 3_650 * 86_400,
            issuer: issuer?.certificate.subject ?? subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: nil))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: .init(issuer?.key ?? key))
        return Identity(certificate: certificate, key: key)
    }

    /// Another leaf for `localhost`, signed by any identity — even one that is not a CA.
    func issueLeaf(signedBy issuer: Identity) throws -> Identity {
        try Self.makeLeaf(
            cn: "localhost", dns: ["localhost"], ips: [], issuer: issuer, notBefore: now - 86_400,
            notAfter: now + 30 * 86_400)
    }

    private static func makeLeaf(
        cn: String, dns: [String], ips: [[UInt8]], issuer: Identity?, notBefore: Date, notAfter: Date
    ) throws -> Identity {
        let key = P256.Signing.PrivateKey()
        let subject = try DistinguishedName {
            OrganizationName("wsdoctor tests")
            CommonName(cn)
        }
        let names = dns.map { GeneralName.dnsName($0) } + ips.map { GeneralName.ipAddress(ASN1OctetString(contentBytes: $0[...])) }
        let certificate = try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(),
            publicKey: .init(key.publicKey),
            notValidBefore: notBefore, notValidAfter: notAfter,
            issuer: issuer?.certificate.subject ?? subject, subject: subject,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames(names)
                if issuer != nil {
                    AuthorityInformationAccess([
                        .init(method: .issuingCA, location: .uniformResourceIdentifier(issuerURL))
                    ])
                }
            },
            issuerPrivateKey: .init(issuer?.key ?? key))
        return Identity(certificate: certificate, key: key)
    }
}
