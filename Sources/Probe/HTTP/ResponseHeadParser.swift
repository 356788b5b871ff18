import Diagnosis

/// Reads an HTTP/1.x response head from raw bytes, bounded, without trusting them.
///
/// Pure: bytes in, verdict out. It recognises at the first bytes when the peer is not
/// speaking HTTP at all (an SSH or SMTP banner, a TLS record), so the probe can say so
/// instead of waiting for a head that will never come.
public struct ResponseHeadParser: Sendable {
    public enum Verdict: Sendable, Equatable {
        case needMore
        /// A complete head; `leftover` are the bytes after it (body or WebSocket frames).
        case head(ResponseHead, leftover: [UInt8])
        /// Not an HTTP response; a printable rendering of the first bytes.
        case notHTTP(String)
        /// The first bytes are a TLS record: a TLS server answered a plaintext request.
        case tlsRecord
        case tooLarge(Int)
    }

    public let maxHeadBytes: Int
    public let maxHeaderLines: Int
    private var bytes: [UInt8] = []

    public init(maxHeadBytes: Int = 64 * 1024, maxHeaderLines: Int = 256) {
        self.maxHeadBytes = maxHeadBytes
        self.maxHeaderLines = maxHeaderLines
    }

    public var received: Int { bytes.count }

    private static let prefix = Array("HTTP/".utf8)

    public mutating func feed(_ chunk: some Sequence<UInt8>) -> Verdict {
        bytes.append(contentsOf: chunk)
        return evaluate()
    }

    /// A printable rendering of what arrived so far (for "not HTTP" and timeout evidence).
    public var printablePrefix: String { Self.printable(bytes.prefix(120)) }

    private func evaluate() -> Verdict {
        if let first = bytes.first, first == 0x15 || first == 0x16, bytes.count < 2 || bytes[1] == 0x03 {
            return .tlsRecord
        }
        let n = min(bytes.count, Self.prefix.count)
        if Array(bytes.prefix(n)) != Array(Self.prefix.prefix(n)) {
            return .notHTTP(Self.printable(bytes.prefix(120)))
        }
        guard let headLength = headEnd() else {
            return bytes.count > maxHeadBytes ? .tooLarge(bytes.count) : .needMore
        }
        if headLength > maxHeadBytes { return .tooLarge(headLength) }
        let headText = String(decoding: bytes[0..<headLength], as: UTF8.self)
        // `\r\n` is one Character in Swift; `isNewline` covers it and a bare `\n`.
        let lines = headText.split(whereSeparator: \.isNewline).map(String.init)
        guard let statusLine = lines.first else { return .notHTTP(Self.printable(bytes.prefix(120))) }
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), parts[1].count == 3, let status = Int(parts[1]),
            (100...599).contains(status)
        else {
            return .notHTTP(Self.printable(Array(statusLine.utf8.prefix(120))))
        }
        if lines.count - 1 > maxHeaderLines { return .tooLarge(headLength) }
        var headers: [(String, String)] = []
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingCharacters(in: .whitespaces)
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else { continue }
            headers.append((name, value))
        }
        let head = ResponseHead(
            version: String(parts[0]), status: status, reason: parts.count > 2 ? String(parts[2]) : "",
            headers: headers, raw: headText)
        return .head(head, leftover: Array(bytes[headLength...]))
    }

    /// Index after the blank line ending the head (`\r\n\r\n`, tolerating bare `\n\n`).
    private func headEnd() -> Int? {
        var i = 0
        let count = bytes.count
        while i < count {
            if bytes[i] == 0x0A {
                if i + 1 < count, bytes[i + 1] == 0x0A { return i + 2 }
                if i + 2 < count, bytes[i + 1] == 0x0D, bytes[i + 2] == 0x0A { return i + 3 }
            }
            i += 1
        }
        return nil
    }

    static func printable(_ raw: some Sequence<UInt8>) -> String {
        var out = ""
        for b in raw {
            switch b {
            case 0x20...0x7E: out.append(Character(UnicodeScalar(b)))
            case 0x0D: out += "\\r"
            case 0x0A: out += "\\n"
            case 0x09: out += "\\t"
            default: out += "\\x" + String(b, radix: 16, uppercase: true).leftPadded(to: 2)
            }
        }
        return out
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = "0") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
