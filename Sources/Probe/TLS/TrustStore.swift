import Foundation
import NIOPosix
import X509

/// The roots a server's chain is checked against: the system's, plus any `--ca-file`.
///
/// wsdoctor builds and judges chains itself (see `CertificateInspector.evaluateTrust`) instead
/// of letting the TLS library refuse the handshake, so it needs the roots as certificates it can
/// look up by name: to tell "issued by a CA nobody trusts" from "the intermediate was not sent".
public struct TrustStore: Sendable {
    /// Roots found in the system bundle.
    public let systemRootCount: Int
    /// Roots added with `--ca-file`.
    public let extraRootCount: Int
    /// The system bundle that was read, if one was found.
    public let systemBundlePath: String?

    /// Every trusted root, by subject: chain classification asks "is the issuer of this one trusted?".
    let rootsBySubject: [DistinguishedName: [Certificate]]
    /// The same roots for swift-certificates' `Verifier`.
    let certificateStore: CertificateStore

    /// A store from certificates already at hand (tests, or a caller that loaded its own roots).
    public init(systemRoots: [Certificate], extraRoots: [Certificate], systemBundlePath: String? = nil) {
        self.systemRootCount = systemRoots.count
        self.extraRootCount = extraRoots.count
        self.systemBundlePath = systemBundlePath
        let all = systemRoots + extraRoots
        self.rootsBySubject = Dictionary(grouping: all, by: \.subject)
        self.certificateStore = CertificateStore(all)
    }

    /// The trusted roots with that subject (none when the name is not a trusted root).
    func roots(named subject: DistinguishedName) -> [Certificate] { rootsBySubject[subject] ?? [] }

    /// Whether exactly this certificate is a trusted root.
    func contains(_ certificate: Certificate) -> Bool { roots(named: certificate.subject).contains(certificate) }

    /// Loads the system roots and, when given, the PEM roots of `--ca-file`.
    ///
    /// The file work runs on NIO's thread pool so that reading and parsing a few hundred roots does
    /// not hold a Swift concurrency thread. Throws `TrustStoreError` for a `--ca-file` that cannot be
    /// used; a missing system bundle is not an error (the store then holds only `--ca-file` roots,
    /// and every public chain will be reported as untrusted — `systemRootCount` shows why).
    ///
    /// - Parameter includeSystemRoots: `false` for tests that must not depend on the machine.
    public static func load(caFile: String?, includeSystemRoots: Bool = true) async throws -> TrustStore {
        try await NIOThreadPool.singleton.runIfActive {
            let extra = try caFile.map(loadCAFile) ?? []
            let system = includeSystemRoots ? SystemRoots.shared : SystemRoots(certificates: [], path: nil)
            return TrustStore(systemRoots: system.certificates, extraRoots: extra, systemBundlePath: system.path)
        }
    }

    /// Largest `--ca-file` accepted: far above any real bundle, low enough that a wrong path
    /// (a disk image, `/dev/zero`) fails fast instead of eating memory.
    static let caFileLimit = 16 << 20

    static func loadCAFile(_ path: String) throws(TrustStoreError) -> [Certificate] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw .noSuchFile(path: path)
        }
        guard !isDirectory.boolValue else { throw .isDirectory(path: path) }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw .notReadable(path: path, reason: "permission denied")
        }
        let data: Data
        do {
            guard let handle = FileHandle(forReadingAtPath: path) else {
                throw TrustStoreError.notReadable(path: path, reason: "cannot be opened")
            }
            defer { try? handle.close() }
            data = try handle.read(upToCount: caFileLimit + 1) ?? Data()
        } catch let error as TrustStoreError {
            throw error
        } catch {
            throw .notReadable(path: path, reason: error.localizedDescription)
        }
        guard data.count <= caFileLimit else { throw .tooLarge(path: path, limit: caFileLimit) }

        let blocks = PEMCertificates.blocks(in: String(decoding: data, as: UTF8.self))
        guard !blocks.isEmpty else {
            // A DER certificate is a single root given in binary: accept it rather than quibble.
            if let der = try? Certificate(derEncoded: Array(data)) { return [der] }
            throw .noCertificates(path: path)
        }
        var certificates: [Certificate] = []
        for block in blocks {
            switch block.der {
            case .failure(let error):
                throw .invalidCertificate(path: path, index: block.index, reason: error.reason)
            case .success(let der):
                do {
                    certificates.append(try Certificate(derEncoded: der))
                } catch {
                    throw .invalidCertificate(path: path, index: block.index, reason: String(describing: error))
                }
            }
        }
        return certificates
    }
}

/// The system's root bundle, read once per process: every diagnosis of a run trusts the same roots.
struct SystemRoots: Sendable {
    var certificates: [Certificate]
    var path: String?

    /// Where distributions keep the bundle; `SSL_CERT_FILE` first, as OpenSSL and curl honour it.
    static var searchPaths: [String] {
        var paths: [String] = []
        if let custom = ProcessInfo.processInfo.environment["SSL_CERT_FILE"], !custom.isEmpty { paths.append(custom) }
        paths += [
            "/etc/ssl/certs/ca-certificates.crt",  // Debian, Ubuntu, Arch, Alpine
            "/etc/pki/tls/certs/ca-bundle.crt",  // Fedora, RHEL
            "/etc/ssl/ca-bundle.pem",  // openSUSE
            "/etc/ssl/cert.pem",  // macOS, BSDs, Alpine
        ]
        return paths
    }

    static let shared: SystemRoots = {
        for path in searchPaths {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            let certificates = PEMCertificates.lenientCertificates(in: String(decoding: data, as: UTF8.self))
            if !certificates.isEmpty { return SystemRoots(certificates: certificates, path: path) }
        }
        return SystemRoots(certificates: [], path: nil)
    }()
}
