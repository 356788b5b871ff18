import Foundation

/// A WebSocket endpoint, parsed and checked. `http(s)://` is read as `ws(s)://` to the
/// same host, port and path, as the spec says.
public struct Target: Sendable, Equatable, Codable {
    /// The URL as `ws://` or `wss://`, credentials removed.
    public var url: String
    public var host: String
    public var port: Int
    public var secure: Bool
    /// Path with query, as sent in the request line (`/ws?x=1`).
    public var path: String
    /// `user:password@` given in the URL, kept out of `url` and never printed.
    public var userInfo: String?

    /// The host as it appears in a `Host` header or URL: IPv6 literals get brackets,
    /// default ports are left out.
    public var hostHeader: String {
        let h = isIPv6Literal ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? h : "\(h):\(port)"
    }

    public var isIPv6Literal: Bool { host.contains(":") }
    public var isIPLiteral: Bool { isIPv6Literal || IPv4Literal.isValid(host) }

    /// The `http(s)://host:port` origin the HTTP side of the service lives on.
    public var httpOrigin: String { "\(secure ? "https" : "http")://\(hostHeader)" }

    /// Path alone, without the query.
    public var pathOnly: String { String(path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]) }

    public init(url: String, host: String, port: Int, secure: Bool, path: String, userInfo: String? = nil) {
        self.url = url
        self.host = host
        self.port = port
        self.secure = secure
        self.path = path
        self.userInfo = userInfo
    }

    private enum CodingKeys: String, CodingKey { case url, host, port, secure, path }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case empty
        case unsupportedScheme(String)
        case missingScheme
        case missingHost
        case badPort(String)
        case malformed(String)
        case tooLong

        public var description: String {
            switch self {
            case .empty: "the URL is empty"
            case .unsupportedScheme(let s): "unsupported scheme '\(s)': use ws://, wss://, http:// or https://"
            case .missingScheme: "the URL has no scheme: write it as ws://host/path or wss://host/path"
            case .missingHost: "the URL has no host name"
            case .badPort(let p): "'\(p)' is not a valid port (1-65535)"
            case .malformed(let why): "the URL is malformed: \(why)"
            case .tooLong: "the URL is longer than 8192 characters"
            }
        }
    }

    /// Parses a user-supplied URL. Never trusts it: length, scheme, host characters and port are all checked.
    public static func parse(_ raw: String) throws(ParseError) -> Target {
        let text = raw.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !text.isEmpty else { throw .empty }
        guard text.utf8.count <= 8192 else { throw .tooLong }
        if text.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F }) {
            throw .malformed("it contains spaces or control characters")
        }
        guard let schemeEnd = text.range(of: "://") else {
            throw .missingScheme
        }
        let scheme = text[..<schemeEnd.lowerBound].lowercased()
        let secure: Bool
        switch scheme {
        case "ws", "http": secure = false
        case "wss", "https": secure = true
        default: throw .unsupportedScheme(scheme)
        }
        var rest = text[schemeEnd.upperBound...]
        // Fragments are never sent to the server.
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd]
        var path = String(rest[authorityEnd...])
        if path.isEmpty { path = "/" } else if path.hasPrefix("?") { path = "/" + path }

        var userInfo: String?
        if let at = authority.lastIndex(of: "@") {
            userInfo = String(authority[..<at])
            authority = authority[authority.index(after: at)...]
        }
        var host: String
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw .malformed("unclosed '[' in an IPv6 address") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .malformed("unexpected text after the IPv6 address") }
                portText = after.dropFirst()
            }
            guard CIDR.bytes(host.split(separator: "%").first.map(String.init) ?? host)?.count == 16 else {
                throw .malformed("'\(host)' is not an IPv6 address")
            }
        } else {
            if let colon = authority.lastIndex(of: ":") {
                host = String(authority[..<colon])
                portText = authority[authority.index(after: colon)...]
            } else {
                host = String(authority)
            }
            host = host.lowercased()
            if host.hasSuffix(".") && host.count > 1 { host.removeLast() }
            guard !host.isEmpty else { throw .missingHost }
            let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-._")
            guard host.allSatisfy({ allowed.contains($0) }) else {
                throw .malformed("'\(host)' is not a valid host name")
            }
            guard host.utf8.count <= 253, !host.split(separator: ".").contains(where: { $0.count > 63 }) else {
                throw .malformed("the host name is too long")
            }
        }
        var port = secure ? 443 : 80
        if let portText {
            if !portText.isEmpty {
                guard portText.allSatisfy({ $0.isASCII && $0.isNumber }), let p = Int(portText), (1...65535).contains(p) else {
                    throw .badPort(String(portText))
                }
                port = p
            }
        }
        var target = Target(url: "", host: host, port: port, secure: secure, path: path, userInfo: userInfo)
        target.url = "\(secure ? "wss" : "ws")://\(target.hostHeader)\(path)"
        return target
    }

    /// The same origin over HTTP, at another path (for health, discovery and fallbacks).
    public func httpURL(path: String) -> String { httpOrigin + path }
}

enum IPv4Literal {
    static func isValid(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in
            !p.isEmpty && p.count <= 3 && p.allSatisfy(\.isNumber) && (Int(p) ?? 256) <= 255
        }
    }
}
