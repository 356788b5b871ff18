import Foundation

/// Keeps credentials out of reports. Reports are written to be pasted into tickets, CI
/// logs and chat, so a token the user passed with `--header` or in the URL must never
/// appear in them, in any format.
///
/// Two layers, because neither is enough alone:
/// - *Structural*: wherever a credential has a recognisable place, its value goes —
///   credential header lines (`Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`, …),
///   `user:password@` in URLs, secret-looking query parameters (`?token=`). This also
///   catches credentials the server sends back (`Set-Cookie`), which the user never typed.
/// - *Known secrets*: the values collected from the user's own input are replaced
///   wherever they occur, however they got there (echoed in a body snippet, quoted in
///   evidence). Only values of 4 characters or more: shorter ones would shred ordinary
///   text, and the structural layer still covers them where they have a place.
///
/// The replacement is always the bare word `REDACTED` (`Redactor.marker`). Not
/// `[REDACTED]`: brackets are not allowed unencoded in URLs, and the marker must leave a
/// redacted URL or header still parseable. Scheme words are kept (`Bearer REDACTED`,
/// `sid=REDACTED; Path=/`), so the report still shows *what kind* of credential was sent.
/// Redaction is idempotent: applying it twice changes nothing more.
public struct Redactor: Sendable {
    /// What every redacted value is replaced with.
    public static let marker = "REDACTED"

    /// Only the structural layer: for when the user's input is not at hand (renderers
    /// apply it as a last line of defence).
    public static let structural = Redactor(secrets: [])

    /// Secret values from the user's input, longest first so that a secret containing
    /// another is replaced whole.
    public let secrets: [String]

    /// Collects the secrets in what the user supplied: request headers (`--header`), the
    /// target URL, and the proxy URL (`--proxy` or the environment).
    public init(headers: [(String, String)], url: String?, proxyURL: String?) {
        var found: [String] = []
        for (name, value) in headers where Self.isCredentialHeader(name) {
            found += Self.secrets(inHeader: name, value: value)
        }
        for u in [url, proxyURL].compactMap({ $0 }) {
            found += Self.secrets(inURL: u)
        }
        self.init(secrets: found)
    }

    /// Secrets given directly (tests, or values known some other way).
    public init(secrets: [String]) {
        var unique: [String] = []
        for s in secrets {
            let s = s.trimmingCharacters(in: .whitespaces)
            guard s.count >= 4, s != Self.marker, !unique.contains(s) else { continue }
            unique.append(s)
        }
        self.secrets = unique.sorted { $0.count > $1.count }
    }

    // MARK: - Redacting strings

    /// A URL (absolute, or a request target such as `/ws?token=x`): userinfo becomes
    /// `REDACTED@`, secret query and fragment parameter values become `REDACTED`; scheme,
    /// host, port, path and parameter names stay.
    public func redact(url: String) -> String {
        replacingSecrets(in: Self.redactInlineURLs(url))
    }

    /// Raw HTTP head text (request or response, `\r\n` or `\n` lines): values of
    /// credential header fields are redacted (scheme word and cookie names kept), URLs in
    /// the start line and in other fields are redacted as by `redact(url:)`, and known
    /// secrets anywhere. Line endings are preserved byte for byte.
    public func redact(headerBlock: String) -> String {
        replacingSecrets(in: Self.redactInlineURLs(Self.mapLines(headerBlock, Self.redactHeaderLine)))
    }

    /// Free text (summaries, evidence, reasons, body snippets): known secrets anywhere,
    /// URLs embedded in it, and lines that are credential header fields.
    public func redact(text: String) -> String {
        // Prose can quote a header line or a whole head; treating every line as a
        // possible header field costs nothing when it is not one.
        redact(headerBlock: text)
    }

    // MARK: - Redacting a report

    /// The report with every string in it redacted: target, cause texts, evidence and
    /// data, findings, stage summaries and details (recursively), transcript and close
    /// reason. Identifiers fixed by the contract (`schema`, ids, enum values) are kept.
    public func redact(report: Report) -> Report {
        var r = report
        r.target.url = redact(url: r.target.url)
        r.target.host = r.target.host.map { redact(text: $0) }
        r.target.path = r.target.path.map { redact(url: $0) }
        r.startedAt = redact(text: r.startedAt)
        r.cause.title = redact(text: r.cause.title)
        r.cause.summary = redact(text: r.cause.summary)
        r.cause.fixes = r.cause.fixes.map { redact(text: $0) }
        r.cause.evidence = r.cause.evidence.map { redact(text: $0) }
        r.cause.data = redact(json: r.cause.data)
        r.findings = r.findings.map { f in
            var f = f
            f.message = redact(text: f.message)
            f.data = redact(json: f.data)
            return f
        }
        r.stages = r.stages.map { s in
            var s = s
            s.summary = redact(text: s.summary)
            s.details = redact(json: s.details)
            return s
        }
        r.transcript.request = r.transcript.request.map { redact(headerBlock: $0) }
        r.transcript.response = r.transcript.response.map { redact(headerBlock: $0) }
        r.close.reason = redact(text: r.close.reason)
        return r
    }

    /// Every string in a free-form value. A string under a credential-header-like key
    /// (`{"Authorization": "Bearer x"}`), or second in a `[name, value]` pair whose name
    /// is one (how header lists are often stored), is redacted as that header's value.
    public func redact(json: JSONValue) -> JSONValue {
        switch json {
        case .string(let s):
            return .string(redact(text: s))
        case .array(let items):
            if items.count == 2, let name = items[0].stringValue, let value = items[1].stringValue,
                Self.isCredentialHeader(name)
            {
                return .array([.string(name), .string(replacingSecrets(in: Self.redactHeaderValue(name: name, value)))])
            }
            return .array(items.map { redact(json: $0) })
        case .object(let pairs):
            return .object(pairs.map { key, value in
                if Self.isCredentialHeader(key), case .string(let s) = value {
                    return (key, .string(replacingSecrets(in: Self.redactHeaderValue(name: key, s))))
                }
                return (key, redact(json: value))
            })
        case .null, .bool, .number:
            return json
        }
    }

    private func replacingSecrets(in text: String) -> String {
        var out = text
        for secret in secrets where out.contains(secret) {
            out = out.replacingOccurrences(of: secret, with: Self.marker)
        }
        return out
    }
}

// MARK: - What counts as a credential

extension Redactor {
    /// Header names that carry credentials: the standard ones, and any name that says so
    /// (`X-Auth-Token`, `X-Api-Key`, `X-Session-Id`, `X-Client-Secret`). Challenges
    /// (`WWW-Authenticate`, `Proxy-Authenticate`) are kept: they hold no secret and are
    /// what explains a 401/407.
    public static func isCredentialHeader(_ name: String) -> Bool {
        let n = name.trimmingCharacters(in: .whitespaces).lowercased()
        if n.contains("authenticate") || n.contains("authority") { return false }
        let markers = ["auth", "cookie", "token", "secret", "api-key", "apikey", "api_key", "password", "session",
                       "credential", "signature"]
        return markers.contains { n.contains($0) }
    }

    /// Query (and fragment) parameter names whose values are secrets, case-insensitive:
    /// the common names exactly, and any name containing `token`, `secret`, `password`,
    /// `signature` or an api-key spelling (`refresh_token`, `X-Amz-Signature`,
    /// `client_secret`).
    public static func isSecretParameter(_ name: String) -> Bool {
        let n = (name.removingPercentEncoding ?? name).lowercased()
        let exact: Set<String> = ["token", "access_token", "auth", "key", "apikey", "api_key", "api-key", "password",
                                  "passwd", "pwd", "secret", "sig", "signature", "jwt", "session", "sessionid",
                                  "session_id", "ticket", "credentials"]
        if exact.contains(n) { return true }
        return ["token", "secret", "password", "signature", "apikey", "api_key", "api-key"].contains { n.contains($0) }
    }

    /// The secret values in one credential header: the whole value, the credentials after
    /// the scheme word, for `Basic` the decoded `user:password` and the password, for
    /// cookies each cookie's value.
    static func secrets(inHeader name: String, value: String) -> [String] {
        let value = value.trimmingCharacters(in: .whitespaces)
        var found = [value]
        let lower = name.lowercased()
        if lower.contains("cookie") {
            for part in value.split(separator: ";") {
                if let eq = part.firstIndex(of: "=") { found.append(String(part[part.index(after: eq)...])) }
            }
        } else if let space = value.firstIndex(of: " ") {
            let scheme = value[..<space]
            let credentials = value[space...].trimmingCharacters(in: .whitespaces)
            found.append(credentials)
            if scheme.lowercased() == "basic", let data = Data(base64Encoded: credentials),
                let decoded = String(data: data, encoding: .utf8)
            {
                found.append(decoded)
                if let colon = decoded.firstIndex(of: ":") { found.append(String(decoded[decoded.index(after: colon)...])) }
            }
        }
        return found
    }

    /// The secret values in a URL: its userinfo (whole, and the password), and the values
    /// of secret query/fragment parameters — each as written and percent-decoded, since
    /// either form may show up elsewhere. Userinfo also in base64: that is how it travels
    /// in the `Authorization`/`Proxy-Authorization: Basic` header made from it.
    static func secrets(inURL url: String) -> [String] {
        var found: [String] = []
        func add(_ s: Substring) {
            found.append(String(s))
            if let decoded = String(s).removingPercentEncoding { found.append(decoded) }
        }
        if let schemeEnd = url.range(of: "://") {
            let rest = url[schemeEnd.upperBound...]
            let authority = rest.prefix { !"/?#".contains($0) }
            if let at = authority.lastIndex(of: "@") {
                let userinfo = authority[..<at]
                add(userinfo)
                found.append(Data((String(userinfo).removingPercentEncoding ?? String(userinfo)).utf8).base64EncodedString())
                if let colon = userinfo.firstIndex(of: ":") { add(userinfo[userinfo.index(after: colon)...]) }
            }
        }
        if let q = url.firstIndex(where: { $0 == "?" || $0 == "#" }) {
            for pair in url[url.index(after: q)...].split(whereSeparator: { "&#?".contains($0) }) {
                guard let eq = pair.firstIndex(of: "=") else { continue }
                if isSecretParameter(String(pair[..<eq])) { add(pair[pair.index(after: eq)...]) }
            }
        }
        return found
    }
}

// MARK: - Structural redaction

extension Redactor {
    /// Applies `transform` to each line without its terminator, keeping `\r\n` / `\n`
    /// exactly. (Works on scalars: in Swift `\r\n` is one `Character`, so splitting on
    /// `"\n"` characters would miss it.)
    static func mapLines(_ text: String, _ transform: (String) -> String) -> String {
        var out = ""
        var line = String.UnicodeScalarView()
        func flush(terminator: String) {
            var l = String(line)
            var cr = false
            if l.unicodeScalars.last == "\r" {
                l.unicodeScalars.removeLast()
                cr = true
            }
            out += transform(l)
            if cr { out += "\r" }
            out += terminator
            line = String.UnicodeScalarView()
        }
        for scalar in text.unicodeScalars {
            if scalar == "\n" { flush(terminator: "\n") } else { line.append(scalar) }
        }
        if !line.isEmpty { flush(terminator: "") }
        return out
    }

    /// A `Name: value` line whose name is a credential header gets its value redacted;
    /// any other line is returned unchanged.
    static func redactHeaderLine(_ line: String) -> String {
        guard let colon = line.firstIndex(of: ":") else { return line }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        let isToken = !name.isEmpty && name.unicodeScalars.allSatisfy {
            CharacterSet.alphanumerics.contains($0) || "-_".unicodeScalars.contains($0)
        }
        guard isToken, isCredentialHeader(name) else { return line }
        let afterColon = line[line.index(after: colon)...]
        let leading = afterColon.prefix { $0 == " " || $0 == "\t" }
        let value = String(afterColon.dropFirst(leading.count))
        return String(line[...colon]) + leading + redactHeaderValue(name: name, value)
    }

    /// The redacted form of one credential header's value: `Authorization` keeps its
    /// scheme word (`Bearer REDACTED`), `Cookie` keeps cookie names (`a=REDACTED;
    /// b=REDACTED`), `Set-Cookie` keeps name and attributes (`sid=REDACTED; Path=/;
    /// HttpOnly`); anything else is `REDACTED` whole. An empty value stays empty.
    static func redactHeaderValue(name: String, _ value: String) -> String {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { return value }
        let lower = name.lowercased()
        if lower.contains("set-cookie") {
            var parts = trimmed.components(separatedBy: ";")
            parts[0] = redactCookiePair(parts[0])
            return parts.joined(separator: ";")
        }
        if lower.contains("cookie") {
            return trimmed.components(separatedBy: ";").map(redactCookiePair).joined(separator: ";")
        }
        if lower.contains("authorization"), let space = trimmed.firstIndex(of: " ") {
            let scheme = trimmed[..<space]
            if scheme.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) {
                return scheme + " " + marker
            }
        }
        return marker
    }

    /// `name=value` → `name=REDACTED`, keeping the spaces around it.
    private static func redactCookiePair(_ pair: String) -> String {
        guard let eq = pair.firstIndex(of: "=") else {
            return pair.trimmingCharacters(in: .whitespaces).isEmpty ? pair : " " + marker
        }
        let leading = pair.prefix { $0 == " " }
        let name = pair[..<eq].trimmingCharacters(in: .whitespaces)
        return leading + name + "=" + marker
    }

    /// Finds URLs' credentials inside any text: the userinfo after `://` and the values of
    /// secret parameters after `?`, `&` or `#`. Scans rather than parses, so it works on
    /// a URL, a request line, or a sentence that quotes one.
    static func redactInlineURLs(_ text: String) -> String {
        let s = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        let markerScalars = marker.unicodeScalars
        func isSpaceOrQuote(_ c: Unicode.Scalar) -> Bool {
            c.properties.isWhitespace || "\"'<>`".unicodeScalars.contains(c)
        }
        var i = 0
        while i < s.count {
            let c = s[i]
            if c == ":", i + 2 < s.count, s[i + 1] == "/", s[i + 2] == "/" {
                out.append(contentsOf: "://".unicodeScalars)
                i += 3
                var j = i
                var at: Int?
                while j < s.count, !isSpaceOrQuote(s[j]), !"/?#".unicodeScalars.contains(s[j]) {
                    if s[j] == "@" { at = j }
                    j += 1
                }
                if let at, at > i {
                    out.append(contentsOf: markerScalars)
                    i = at
                }
                continue
            }
            if c == "?" || c == "&" || c == "#" {
                out.append(c)
                i += 1
                var j = i
                while j < s.count, CharacterSet.alphanumerics.contains(s[j]) || "_-.%[]".unicodeScalars.contains(s[j]) {
                    j += 1
                }
                if j > i, j < s.count, s[j] == "=" {
                    let name = String(String.UnicodeScalarView(s[i..<j]))
                    out.append(contentsOf: s[i...j])
                    i = j + 1
                    if isSecretParameter(name) {
                        var k = i
                        while k < s.count, !isSpaceOrQuote(s[k]), s[k] != "&", s[k] != "#" { k += 1 }
                        if k > i { out.append(contentsOf: markerScalars) }
                        i = k
                    }
                }
                continue
            }
            out.append(c)
            i += 1
        }
        return String(out)
    }
}
