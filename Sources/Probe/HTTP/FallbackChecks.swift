import Diagnosis
import Foundation
import NIOPosix

/// Checks that the fallback transports answer: SSE delivers its first event (not held
/// back by a buffering proxy), long-polling answers with JSON.
enum FallbackChecks {
    static func sse(url: String, base: Dialer, proxy: ProxyConfig?, tls: TLSBridge?) async -> FallbackEvidence.TransportCheck {
        guard let (dialer, path) = dialer(for: url, base: base, proxy: proxy, tls: tls) else {
            return .init(url: url, works: false, status: nil, durationMs: 0, detail: "not a usable URL")
        }
        let (check, _) = await HTTPGetter.get(dialer, path: path, url: url, options: .init(
            headers: [("Accept", "text/event-stream"), ("Cache-Control", "no-cache")], maxBody: 8192, stopAtFirstEvent: true))
        let status = check.response?.status
        let type = check.response?.header("Content-Type")?.lowercased() ?? ""
        let works = status == 200 && type.hasPrefix("text/event-stream") && check.failure == nil
        let detail: String
        if let failure = check.failure, status == 200 {
            detail = "answered 200 but no event arrived (\(failure)): a proxy may be buffering the stream"
        } else if let failure = check.failure {
            detail = failure
        } else if status != 200 {
            detail = "answered \(status.map(String.init) ?? "?")"
        } else if !type.hasPrefix("text/event-stream") {
            detail = "answered with Content-Type \(type.isEmpty ? "(none)" : type), not text/event-stream"
        } else {
            detail = "first event arrived"
        }
        return .init(url: url, works: works, status: status, durationMs: check.durationMs, detail: detail)
    }

    static func poll(url: String, base: Dialer, proxy: ProxyConfig?, tls: TLSBridge?) async -> FallbackEvidence.TransportCheck {
        guard let (dialer, path) = dialer(for: url, base: base, proxy: proxy, tls: tls) else {
            return .init(url: url, works: false, status: nil, durationMs: 0, detail: "not a usable URL")
        }
        let (check, _) = await HTTPGetter.get(dialer, path: path, url: url, options: .init(headers: [("Accept", "application/json")]))
        let status = check.response?.status
        let works = (status ?? 0) / 100 == 2 && check.failure == nil
        let detail = check.failure ?? (works ? "answered \(status!)" : "answered \(status.map(String.init) ?? "?")")
        return .init(url: url, works: works, status: status, durationMs: check.durationMs, detail: detail)
    }

    private static func dialer(for url: String, base: Dialer, proxy: ProxyConfig?, tls: TLSBridge?) -> (Dialer, String)? {
        guard let target = try? Target.parse(url) else { return nil }
        let b = base.target
        if target.host == b.host, target.port == b.port, target.secure == b.secure { return (base, target.path) }
        return (Dialer(target: target, timeout: base.timeout, proxy: proxy, group: MultiThreadedEventLoopGroup.singleton,
                       tls: tls), target.path)
    }
}
