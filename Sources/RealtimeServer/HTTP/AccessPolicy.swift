import Hummingbird

/// Origins and tokens, as the spec sets them: requests without `Origin`, same-origin
/// requests and `--allow-origin` origins pass; tokens come as `Authorization: Bearer`
/// or a `token` query parameter (browsers cannot set headers on WebSocket/EventSource).
public struct AccessPolicy: Sendable {
    let allowedOrigins: Set<String>
    let rejectAllCrossOrigin: Bool

    init(configuration: ServerConfiguration) {
        allowedOrigins = Set(configuration.allowedOrigins.map { Self.normalize($0) })
        rejectAllCrossOrigin = configuration.has(.rejectOrigin)
    }

    /// nil when allowed; the origin that was refused otherwise.
    func refusedOrigin(origin: String?, host: String?) -> String? {
        guard let origin, !origin.isEmpty else { return nil }
        let o = Self.normalize(origin)
        if let host, Self.sameOrigin(o, host: host) { return nil }
        if !rejectAllCrossOrigin && allowedOrigins.contains(o) { return nil }
        return origin
    }

    func check(_ request: Request) throws {
        if let refused = refusedOrigin(origin: request.headers[.origin], host: request.head.authority) {
            throw APIError.forbiddenOrigin(refused)
        }
    }

    /// Checks the token when one is configured.
    static func checkToken(_ expected: String?, _ request: Request) throws {
        guard let expected else { return }
        guard let presented = token(in: request), constantTimeEqual(presented, expected) else { throw APIError.unauthorized }
    }

    static func token(in request: Request) -> String? {
        if let auth = request.headers[.authorization], auth.lowercased().hasPrefix("bearer ") {
            return String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        return request.uri.queryParameters.get("token")
    }

    /// Comparison time does not depend on where the strings differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var diff = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) { diff |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0) }
        return diff == 0
    }

    static func normalize(_ origin: String) -> String {
        var o = origin.lowercased().trimmingCharacters(in: .whitespaces)
        while o.hasSuffix("/") { o.removeLast() }
        return o
    }

    /// `Origin: https://host[:port]` against the request's `Host`.
    static func sameOrigin(_ origin: String, host: String) -> Bool {
        guard let r = origin.range(of: "://") else { return false }
        return origin[r.upperBound...] == host.lowercased()
    }
}

import Foundation
