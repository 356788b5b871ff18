import Foundation
import Hummingbird
import NIOConcurrencyHelpers
import RealtimeCore

/// Reports and stats are private: reading them needs `--admin-token`. Without one
/// configured they cannot be read at all (403, saying how to set it); with one, a
/// missing or wrong token gets 401.
enum AdminAccess {
    static func check(_ state: ServerState, _ request: Request) throws {
        guard let token = state.configuration.adminToken, !token.isEmpty else {
            throw APIError(.forbidden, "admin-token-not-set",
                           "reports and stats are private: start the server with --admin-token TOKEN to read them")
        }
        try AccessPolicy.checkToken(token, request)
    }
}

/// Per-client limit on stored reports (a token bucket per peer address), so one client
/// cannot fill the store. The table of clients is bounded.
final class ReportRateLimits: Sendable {
    private let limiters = NIOLockedValueBox([String: RateLimiter]())
    let rate: Double
    let burst: Double

    init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = burst
    }

    func allow(client: String, now: Double = ProcessInfo.processInfo.systemUptime) -> Bool {
        limiters.withLockedValue { l in
            if l.count > 10_000 { l.removeAll() }  // bounded: forget idle clients wholesale
            var limiter = l[client] ?? RateLimiter(rate: rate, burst: burst)
            let ok = limiter.allow(now: now)
            l[client] = limiter
            return ok
        }
    }
}
