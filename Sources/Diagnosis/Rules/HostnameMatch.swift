import Foundation

/// Does a certificate cover the host we connected to? RFC 6125 as browsers and TLS
/// libraries apply it today, so that wsdoctor accuses exactly what a real client rejects:
///
/// - DNS names compare case-insensitively, ignoring one trailing dot.
/// - A wildcard is only a whole left-most label (`*.example.com`): it stands for exactly one
///   non-empty label, so it covers `a.example.com` but neither `example.com` nor
///   `a.b.example.com`. Partial wildcards (`w*.example.com`) and wildcards over fewer than two
///   labels (`*.com`) match nothing, as in current browsers.
/// - The subject Common Name is never consulted: clients stopped falling back to it.
/// - An IP literal matches only IP SANs, compared as addresses (so `::1` equals
///   `0:0:0:0:0:0:0:1`), never DNS SANs.
public enum HostnameMatch {
    /// Whether `host` (a DNS name or an IP literal, IPv6 with or without brackets) is covered by
    /// the certificate's SAN DNS names and IP addresses.
    public static func matches(host: String, dnsNames: [String], ipAddresses: [String]) -> Bool {
        if let address = IPAddressBytes.parse(host) {
            return ipAddresses.contains { IPAddressBytes.parse($0) == address }
        }
        return dnsNames.contains { matches(host: host, pattern: $0) }
    }

    /// Whether one SAN DNS name (possibly a wildcard) covers a DNS host name.
    public static func matches(host: String, pattern: String) -> Bool {
        let hostLabels = labels(of: host)
        let patternLabels = labels(of: pattern)
        guard !hostLabels.isEmpty, hostLabels.count == patternLabels.count,
            !hostLabels.contains(where: \.isEmpty), !patternLabels.contains(where: \.isEmpty)
        else { return false }
        // An IP literal written into a DNS SAN never matches: clients compare addresses only with IP SANs.
        guard IPAddressBytes.parse(host) == nil else { return false }
        for (index, (h, p)) in zip(hostLabels, patternLabels).enumerated() {
            if p == "*" {
                // Only the left-most label may be a wildcard, and it must leave two labels below it.
                guard index == 0, patternLabels.count >= 3 else { return false }
                continue
            }
            if p.contains("*") || h != p { return false }
        }
        return true
    }

    private static func labels(of name: String) -> [Substring] {
        var text = name.lowercased()
        if text.hasSuffix(".") { text.removeLast() }
        guard !text.isEmpty else { return [] }
        return text.split(separator: ".", omittingEmptySubsequences: false)
    }
}

extension HostnameMatch {
    /// IP literals as bytes, so that different spellings of one address compare equal. Written
    /// here rather than with `inet_pton` because the `Diagnosis` module is Foundation only.
    enum IPAddressBytes {
        /// 4 bytes for IPv4, 16 for IPv6; `nil` when the text is not an IP literal. Accepts
        /// brackets and an IPv6 zone (`fe80::1%eth0`), which do not change the address.
        static func parse(_ text: String) -> [UInt8]? {
            var s = Substring(text)
            if s.hasPrefix("["), s.hasSuffix("]") { s = s.dropFirst().dropLast() }
            if let percent = s.firstIndex(of: "%") { s = s[..<percent] }
            if s.contains(":") { return parseIPv6(s) }
            return parseIPv4(s)
        }

        static func parseIPv4(_ s: Substring) -> [UInt8]? {
            let parts = s.split(separator: ".", omittingEmptySubsequences: false)
            guard parts.count == 4 else { return nil }
            var bytes: [UInt8] = []
            for part in parts {
                guard !part.isEmpty, part.count <= 3, part.allSatisfy({ $0.isASCII && $0.isNumber }),
                    let value = UInt8(part)
                else { return nil }
                bytes.append(value)
            }
            return bytes
        }

        static func parseIPv6(_ s: Substring) -> [UInt8]? {
            guard s.count <= 45 else { return nil }
            let halves = s.components(separatedBy: "::")
            guard halves.count <= 2 else { return nil }
            func groups(_ part: String, allowIPv4Tail: Bool) -> [UInt8]? {
                if part.isEmpty { return [] }
                var bytes: [UInt8] = []
                let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
                for (i, piece) in pieces.enumerated() {
                    if allowIPv4Tail, i == pieces.count - 1, piece.contains(".") {
                        guard let v4 = parseIPv4(piece) else { return nil }
                        bytes += v4
                        continue
                    }
                    guard (1...4).contains(piece.count), let value = UInt16(piece, radix: 16) else { return nil }
                    bytes += [UInt8(value >> 8), UInt8(value & 0xFF)]
                }
                return bytes
            }
            if halves.count == 1 {
                guard let bytes = groups(halves[0], allowIPv4Tail: true), bytes.count == 16 else { return nil }
                return bytes
            }
            guard let head = groups(halves[0], allowIPv4Tail: false), let tail = groups(halves[1], allowIPv4Tail: true),
                head.count + tail.count <= 14
            else { return nil }
            return head + Array(repeating: 0, count: 16 - head.count - tail.count) + tail
        }
    }
}
