/// Reads the first bytes a server sent in answer to our ClientHello, without a TLS library:
/// whether they are TLS at all, a plaintext answer (an HTTP server on the port), an alert sent
/// in the clear, or the server's hello with the chosen cipher suite.
enum TLSRecordSniffer {
    enum Reading: Equatable {
        /// Not TLS, and readable: the text, non-printable bytes shown as `.`.
        case plaintext(String)
        /// Not TLS, and binary.
        case binary(hex: String)
        /// A TLS alert record in the clear; the description name (`handshake failure`).
        case alert(String)
        /// The server's hello; the cipher suite it chose.
        case serverHello(cipherSuite: UInt16)
        /// TLS, but nothing more to say (another record, or too few bytes).
        case tls
        case empty
    }

    static func read(_ bytes: [UInt8]) -> Reading {
        guard let first = bytes.first else { return .empty }
        // A TLS record: content type 20...23, then a 3.x version.
        let looksTLS = (20...23).contains(first) && (bytes.count < 2 || bytes[1] == 3)
        if looksTLS {
            if first == 21, bytes.count >= 7 { return .alert(alertName(bytes[6])) }
            if first == 22, let suite = serverHelloCipherSuite(bytes) { return .serverHello(cipherSuite: suite) }
            return .tls
        }
        let sample = bytes.prefix(64)
        let printable = sample.filter { (32...126).contains($0) || $0 == 9 || $0 == 10 || $0 == 13 }.count
        if printable * 10 >= sample.count * 9 {
            let text = String(decoding: bytes.prefix(512).map { (32...126).contains($0) || $0 == 10 || $0 == 13 ? $0 : 46 },
                              as: UTF8.self)
            return .plaintext(text)
        }
        let digits = Array("0123456789abcdef")
        return .binary(hex: bytes.prefix(16).map { String([digits[Int($0 >> 4)], digits[Int($0 & 15)]]) }
            .joined(separator: " "))
    }

    /// The cipher suite of a ServerHello at the start of `bytes` (record header, handshake header,
    /// version, random, session id, then the suite). Same place in TLS 1.2 and 1.3.
    static func serverHelloCipherSuite(_ bytes: [UInt8]) -> UInt16? {
        guard bytes.count > 43, bytes[0] == 22, bytes[5] == 2 else { return nil }
        let sessionIDLength = Int(bytes[43])
        let at = 44 + sessionIDLength
        guard bytes.count >= at + 2 else { return nil }
        return UInt16(bytes[at]) << 8 | UInt16(bytes[at + 1])
    }

    /// RFC 8446 §6 / RFC 5246 §7.2 alert names, as people read them.
    static func alertName(_ code: UInt8) -> String {
        switch code {
        case 0: "close notify"
        case 10: "unexpected message"
        case 20: "bad record mac"
        case 22: "record overflow"
        case 40: "handshake failure"
        case 42: "bad certificate"
        case 43: "unsupported certificate"
        case 44: "certificate revoked"
        case 45: "certificate expired"
        case 46: "certificate unknown"
        case 47: "illegal parameter"
        case 48: "unknown ca"
        case 49: "access denied"
        case 50: "decode error"
        case 51: "decrypt error"
        case 70: "protocol version"
        case 71: "insufficient security"
        case 80: "internal error"
        case 86: "inappropriate fallback"
        case 90: "user canceled"
        case 109: "missing extension"
        case 110: "unsupported extension"
        case 112: "unrecognized name"
        case 113: "bad certificate status response"
        case 115: "unknown psk identity"
        case 116: "certificate required"
        case 120: "no application protocol"
        default: "alert \(code)"
        }
    }

    /// IANA names of the suites servers actually pick; others are shown as their code.
    static func cipherSuiteName(_ code: UInt16) -> String {
        switch code {
        case 0x1301: "TLS_AES_128_GCM_SHA256"
        case 0x1302: "TLS_AES_256_GCM_SHA384"
        case 0x1303: "TLS_CHACHA20_POLY1305_SHA256"
        case 0xC02B: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
        case 0xC02C: "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384"
        case 0xC02F: "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"
        case 0xC030: "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
        case 0xCCA8: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xCCA9: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"
        case 0xC009: "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA"
        case 0xC00A: "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA"
        case 0xC013: "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
        case 0xC014: "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA"
        case 0x009C: "TLS_RSA_WITH_AES_128_GCM_SHA256"
        case 0x009D: "TLS_RSA_WITH_AES_256_GCM_SHA384"
        case 0x002F: "TLS_RSA_WITH_AES_128_CBC_SHA"
        case 0x0035: "TLS_RSA_WITH_AES_256_CBC_SHA"
        case 0x000A: "TLS_RSA_WITH_3DES_EDE_CBC_SHA"
        default:
            "0x" + String(repeating: "0", count: max(0, 4 - String(code, radix: 16).count))
                + String(code, radix: 16, uppercase: true)
        }
    }
}
