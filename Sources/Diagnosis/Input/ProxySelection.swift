import Foundation

/// An HTTP proxy to tunnel through with CONNECT.
public struct ProxyConfig: Sendable, Equatable {
    public var host: String
    public var port: Int
    /// `user:password`, percent-decoded, for `Proxy-Authorization: Basic`.
    public var credentials: String?
    /// `--proxy` or the environment variable it came from.
    public var source: String

    /// The proxy URL without credentials, for reports.
    public var displayURL: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)" }

    public init(host: String, port: Int, credentials: String?, source: String) {
        self.host = host
        self.port = port
        self.credentials = credentials
        self.source = source
    }
}

/// Chooses the proxy for a target the way curl does: `--proxy` wins, `--no-proxy`
/// disables, else `https_proxy`/`http_proxy` by scheme, then `all_proxy`, each in
/// lower then upper case, minus hosts matching `no_proxy`.
public enum ProxySelection {
    public enum Setting: Sendable, Equatable {
        case environment
        case none
        case explicit(String)
    }

    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    public static func select(for target: Target, setting: Setting, environment: [String: String])
        throws(ParseError) -> ProxyConfig?
    {
        switch setting {
        case .none:
            return nil
        case .explicit(let url):
            return try parse(url, source: "--proxy")
        case .environment:
            let names = target.secure ? ["https_proxy", "HTTPS_PROXY"] : ["http_proxy", "HTTP_PROXY"]
            guard let (name, value) = (names + ["all_proxy", "ALL_PROXY"]).lazy
                .compactMap({ n in environment[n].flatMap { $0.isEmpty ? nil : (n, $0) } }).first
            else { return nil }
            let noProxy = environment["no_proxy"] ?? environment["NO_PROXY"] ?? ""
            if bypasses(host: target.host, noProxy: noProxy) { return nil }
            return try parse(value, source: name)
        }
    }

    /// `no_proxy` matching as curl does: `*` for all, otherwise comma/space separated
    /// names matched as the host or a domain suffix (a leading dot is optional), IP
    /// literals exactly or by CIDR prefix.
    public static func bypasses(host: String, noProxy: String) -> Bool {
        let entries = noProxy.split(whereSeparator: { $0 == "," || $0 == " " }).map { $0.lowercased() }
        let h = host.lowercased()
        for var entry in entries {
            if entry == "*" { return true }
            if entry.hasPrefix("[") && entry.hasSuffix("]") { entry = String(entry.dropFirst().dropLast()) }
            if let slash = entry.firstIndex(of: "/"), let bits = Int(entry[entry.index(after: slash)...]) {
                if CIDR.contains(network: String(entry[..<slash]), bits: bits, address: h) { return true }
                continue
            }
            // Entries may carry a port (`host:8080`); curl ignores it for names.
            if !entry.contains("::"), entry.filter({ $0 == ":" }).count == 1, let colon = entry.firstIndex(of: ":") {
                entry = String(entry[..<colon])
            }
            if entry.hasPrefix(".") { entry.removeFirst() }
            if entry.isEmpty { continue }
            if h == entry || h.hasSuffix("." + entry) { return true }
        }
        return false
    }

    public static func parse(_ raw: String, source: String) throws(ParseError) -> ProxyConfig {
        var text = raw.trimmingCharacters(in: .whitespaces)
        if let r = text.range(of: "://") {
            let scheme = text[..<r.lowerBound].lowercased()
            guard scheme == "http" else {
                throw ParseError(description: "\(source): proxy scheme '\(scheme)' is not supported (only http:// proxies that allow CONNECT)")
            }
            text = String(text[r.upperBound...])
        }
        if let slash = text.firstIndex(of: "/") { text = String(text[..<slash]) }
        var credentials: String?
        if let at = text.lastIndex(of: "@") {
            credentials = String(text[..<at]).removingPercentEncoding ?? String(text[..<at])
            text = String(text[text.index(after: at)...])
        }
        var host = text
        var port = 1080  // curl's default proxy port
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = String(text[text.index(after: text.startIndex)..<close])
            let rest = text[text.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let p = Int(rest.dropFirst()), (1...65535).contains(p) else {
                    throw ParseError(description: "\(source): bad proxy port in '\(raw)'")
                }
                port = p
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = String(text[..<colon])
            guard let p = Int(text[text.index(after: colon)...]), (1...65535).contains(p) else {
                throw ParseError(description: "\(source): bad proxy port in '\(raw)'")
            }
            port = p
        }
        guard !host.isEmpty, !host.contains(where: { $0 == " " || $0 == "/" }) else {
            throw ParseError(description: "\(source): '\(raw)' is not a proxy URL")
        }
        return ProxyConfig(host: host.lowercased(), port: port, credentials: credentials, source: source)
    }
}

enum CIDR {
    static func contains(network: String, bits: Int, address: String) -> Bool {
        guard let n = bytes(network), let a = bytes(address), n.count == a.count, bits >= 0, bits <= n.count * 8 else {
            return false
        }
        var remaining = bits
        for i in 0..<n.count where remaining > 0 {
            let take = min(8, remaining)
            let mask: UInt8 = take == 8 ? 0xFF : ~(0xFF >> UInt8(take))
            if n[i] & mask != a[i] & mask { return false }
            remaining -= take
        }
        return true
    }

    static func bytes(_ text: String) -> [UInt8]? {
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 { return withUnsafeBytes(of: &v4) { Array($0) } }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 { return withUnsafeBytes(of: &v6) { Array($0) } }
        return nil
    }
}
