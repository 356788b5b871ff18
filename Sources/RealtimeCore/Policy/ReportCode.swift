/// Short codes a user can read to support over the phone: `K7Q2-9XMD`. Crockford's
/// base32 alphabet (no I, L, O, U), so a misheard letter is rarely another valid code.
public enum ReportCode {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    public static func make<G: RandomNumberGenerator>(using generator: inout G) -> String {
        let chars = (0..<8).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] }
        return String(chars[0..<4]) + "-" + String(chars[4..<8])
    }

    public static func make() -> String {
        var g = SystemRandomNumberGenerator()
        return make(using: &g)
    }

    /// Normalises what a user typed (`k7q2 9xmd`, `K7Q29XMD`, `k7q2-9xmo`) to a code, or nil.
    public static func normalize(_ text: String) -> String? {
        var chars: [Character] = []
        for c in text.uppercased() where c != "-" && c != " " {
            switch c {
            case "O": chars.append("0")
            case "I", "L": chars.append("1")
            default:
                guard alphabet.contains(c) else { return nil }
                chars.append(c)
            }
        }
        guard chars.count == 8 else { return nil }
        return String(chars[0..<4]) + "-" + String(chars[4..<8])
    }
}

/// The `probe` nonce of the handshake log: 16 to 64 URL-safe characters.
public enum ProbeNonce {
    public static func isValid(_ text: some StringProtocol) -> Bool {
        (16...64).contains(text.utf8.count) && text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2D || b == 0x5F
        }
    }
}
