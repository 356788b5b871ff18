/// Writes an IP address SAN (raw octets) the way people and `HostnameMatch` read it: dotted
/// IPv4, and IPv6 in the canonical RFC 5952 form (lower case, longest zero run as `::`), so the
/// report shows `::1`, not sixteen bytes.
enum IPAddressText {
    static func format(_ octets: [UInt8]) -> String {
        switch octets.count {
        case 4:
            return octets.map(String.init).joined(separator: ".")
        case 16:
            let groups = (0..<8).map { UInt16(octets[2 * $0]) << 8 | UInt16(octets[2 * $0 + 1]) }
            // Longest run of at least two zero groups; the first one wins a tie.
            var best: Range<Int>?
            var i = 0
            while i < 8 {
                guard groups[i] == 0 else { i += 1; continue }
                var j = i
                while j < 8, groups[j] == 0 { j += 1 }
                if j - i >= 2, j - i > (best?.count ?? 0) { best = i..<j }
                i = j
            }
            func text(_ range: Range<Int>) -> String {
                groups[range].map { String($0, radix: 16) }.joined(separator: ":")
            }
            guard let best else { return text(0..<8) }
            return text(0..<best.lowerBound) + "::" + text(best.upperBound..<8)
        default:
            // Not an address (a name-constraint range or garbage): show the bytes rather than drop them.
            return octets.map { String($0, radix: 16) }.joined(separator: ".")
        }
    }
}
