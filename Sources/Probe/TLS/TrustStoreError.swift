/// Why `--ca-file` could not be used. Each case reads as one line naming the file and the
/// problem, because it is printed as-is for a usage error (exit 64), never as a stack trace.
public enum TrustStoreError: Error, Equatable, CustomStringConvertible {
    case noSuchFile(path: String)
    case isDirectory(path: String)
    case notReadable(path: String, reason: String)
    case tooLarge(path: String, limit: Int)
    case noCertificates(path: String)
    case invalidCertificate(path: String, index: Int, reason: String)

    public var description: String {
        switch self {
        case .noSuchFile(let path): "--ca-file \(path): no such file"
        case .isDirectory(let path): "--ca-file \(path): is a directory, not a PEM file"
        case .notReadable(let path, let reason): "--ca-file \(path): is not readable (\(reason))"
        case .tooLarge(let path, let limit): "--ca-file \(path): is larger than \(limit / (1 << 20)) MiB"
        case .noCertificates(let path): "--ca-file \(path): contains no PEM certificates"
        case .invalidCertificate(let path, let index, let reason):
            "--ca-file \(path): certificate \(index) is not a valid X.509 certificate (\(reason))"
        }
    }
}
