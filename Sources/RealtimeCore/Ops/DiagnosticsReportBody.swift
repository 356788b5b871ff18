import Foundation

/// The body of `POST /api/diagnostics`: any JSON object. Credentials are never stored:
/// at any depth, an object member whose name is a credential (`Authorization`,
/// `Proxy-Authorization`, `Cookie`, `Set-Cookie`, `token`, `password`, API keys …;
/// compared ignoring case, `-` and `_`) is dropped before the report is kept.
public enum DiagnosticsReportBody {
    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case malformed
        case notAnObject

        public var description: String {
            switch self {
            case .malformed: "the report must be JSON"
            case .notAnObject: "the report must be a JSON object {…}"
            }
        }

        public var code: String {
            switch self {
            case .malformed: "malformed-json"
            case .notAnObject: "not-an-object"
            }
        }
    }

    /// Member names never stored, in their compared form (lower case, no `-` or `_`).
    static let credentialNames: Set<String> = [
        "authorization", "proxyauthorization", "cookie", "cookies", "setcookie",
        "token", "accesstoken", "refreshtoken", "idtoken", "authtoken", "xauthtoken", "bearer",
        "password", "passwd", "secret", "clientsecret", "apikey", "xapikey",
        "publishtoken", "admintoken",
    ]

    public static func isCredentialName(_ name: String) -> Bool {
        credentialNames.contains(String(name.lowercased().unicodeScalars.filter { $0 != "-" && $0 != "_" }))
    }

    /// The report as compact JSON with credential members removed, and how many were.
    public static func sanitize(_ text: String) throws(Refusal) -> (report: JSONText, dropped: Int) {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            throw .malformed
        }
        guard value is [String: Any] else { throw .notAnObject }
        var dropped = 0
        let clean = strip(value, dropped: &dropped)
        guard let json = JSONText(value: clean) else { throw .malformed }
        return (json, dropped)
    }

    static func strip(_ value: Any, dropped: inout Int) -> Any {
        if let object = value as? [String: Any] {
            var out: [String: Any] = [:]
            out.reserveCapacity(object.count)
            for (key, member) in object {
                if isCredentialName(key) { dropped += 1; continue }
                out[key] = strip(member, dropped: &dropped)
            }
            return out
        }
        if let array = value as? [Any] { return array.map { strip($0, dropped: &dropped) } }
        return value
    }
}
