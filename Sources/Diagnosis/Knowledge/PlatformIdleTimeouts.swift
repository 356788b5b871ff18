import Foundation

/// A platform's default limit on how long a WebSocket may stay quiet (or, for some, stay
/// open at all). When a connection is cut after N seconds, N usually names the culprit.
public struct PlatformTimeout: Sendable, Equatable {
    /// The platform and setting, e.g. "nginx (proxy_read_timeout)".
    public var name: String
    public var defaultSeconds: Double
    /// What to change, and how.
    public var setting: String
    /// `true` when traffic resets the timer (pings keep the connection alive); `false` when
    /// it caps the connection's whole lifetime, so only raising the limit helps.
    public var resetsOnTraffic: Bool

    public init(name: String, defaultSeconds: Double, setting: String, resetsOnTraffic: Bool = true) {
        self.name = name
        self.defaultSeconds = defaultSeconds
        self.setting = setting
        self.resetsOnTraffic = resetsOnTraffic
    }
}

/// Known default timeouts of proxies, load balancers and platforms, and the arithmetic to
/// match a measured cut against them and to pick a safe ping interval.
public enum PlatformIdleTimeouts {
    public static let all: [PlatformTimeout] = [
        PlatformTimeout(
            name: "nginx (proxy_read_timeout)", defaultSeconds: 60,
            setting: "`proxy_read_timeout 3600s; proxy_send_timeout 3600s;` in the WebSocket location"),
        PlatformTimeout(
            name: "AWS Application Load Balancer", defaultSeconds: 60,
            setting: "load balancer attribute `idle_timeout.timeout_seconds` (1–4000 s)"),
        PlatformTimeout(
            name: "AWS Classic Load Balancer", defaultSeconds: 60,
            setting: "connection settings `IdleTimeout` (1–4000 s)"),
        PlatformTimeout(
            name: "Apache httpd (Timeout/ProxyTimeout)", defaultSeconds: 60,
            setting: "`ProxyTimeout 3600` (it defaults to `Timeout`, 60 s)"),
        PlatformTimeout(
            name: "Kong (service read_timeout)", defaultSeconds: 60,
            setting: "the Service's `read_timeout` and `write_timeout`, in milliseconds (default 60000)"),
        PlatformTimeout(
            name: "Heroku router", defaultSeconds: 55,
            setting: "not configurable: send data (a ping or heartbeat) at least every 55 s"),
        PlatformTimeout(
            name: "HAProxy (stock haproxy.cfg: timeout client/server 50 s)", defaultSeconds: 50,
            setting: "`timeout tunnel 1h` in the defaults or backend section"),
        PlatformTimeout(
            name: "Cloudflare", defaultSeconds: 100,
            setting: "fixed on most plans: make sure some frame (a ping) passes more often than every 100 s"),
        PlatformTimeout(
            name: "Google Cloud load balancer (backend service timeout)", defaultSeconds: 30,
            setting: "backend service timeout, a cap on the WebSocket's whole lifetime: "
                + "`gcloud compute backend-services update BACKEND --global --timeout=3600` (GKE: BackendConfig `timeoutSec`)",
            resetsOnTraffic: false),
        PlatformTimeout(
            name: "Google Cloud Run (request timeout)", defaultSeconds: 300,
            setting: "request timeout, a cap on the WebSocket's whole lifetime: `gcloud run services update SERVICE --timeout=3600` (max 3600 s)",
            resetsOnTraffic: false),
        PlatformTimeout(
            name: "Azure Load Balancer (TCP idle timeout)", defaultSeconds: 240,
            setting: "the load-balancing rule's `idleTimeoutInMinutes`"),
        PlatformTimeout(
            name: "Envoy (stream_idle_timeout)", defaultSeconds: 300,
            setting: "HTTP connection manager `stream_idle_timeout`, or the route's `idle_timeout`"),
        PlatformTimeout(
            name: "AWS API Gateway WebSocket API", defaultSeconds: 600,
            setting: "fixed 10-minute idle timeout (and 2-hour maximum connection): send a ping or message more often"),
    ]

    /// The platforms whose default is within the tolerance of `measuredSeconds`, closest
    /// first. Tolerance: ±max(2 s, 5 % of the platform's default), because a cut is seen
    /// slightly after the timer fires (the FIN travels, the probe polls) and platforms
    /// round their timers; 2 s covers that for short timeouts, 5 % for long ones.
    public static func matches(measuredSeconds: Double) -> [PlatformTimeout] {
        guard measuredSeconds.isFinite, measuredSeconds > 0 else { return [] }
        return all
            .filter { abs(measuredSeconds - $0.defaultSeconds) <= tolerance(for: $0.defaultSeconds) }
            .sorted { abs(measuredSeconds - $0.defaultSeconds) < abs(measuredSeconds - $1.defaultSeconds) }
    }

    /// The matching window around a platform default `seconds`: max(2 s, 5 %).
    public static func tolerance(for seconds: Double) -> Double { max(2, seconds * 0.05) }

    /// A ping interval comfortably below an idle timeout of `idleSeconds`: 75 % of it,
    /// rounded down to whole seconds, never below 1 s (so for timeouts of 1 s or less it is
    /// not below the timeout; nothing sensible is). Non-finite or non-positive input gives 1.
    /// E.g. 60 → 45, 55 → 41, 100 → 75, 30 → 22.
    public static func recommendedPingInterval(forIdleSeconds idleSeconds: Double) -> Double {
        guard idleSeconds.isFinite, idleSeconds > 0 else { return 1 }
        return max(1, (idleSeconds * 0.75).rounded(.down))
    }
}
