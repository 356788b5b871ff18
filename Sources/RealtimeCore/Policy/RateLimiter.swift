/// A token bucket: `rate` events per second, bursts up to `burst`. Pure: the caller
/// passes the time.
public struct RateLimiter: Sendable {
    public let rate: Double
    public let burst: Double
    private var tokens: Double
    private var last: Double?

    public init(rate: Double, burst: Double? = nil) {
        self.rate = max(0, rate)
        self.burst = max(1, burst ?? rate)
        self.tokens = self.burst
    }

    /// Takes one token if there is one.
    public mutating func allow(now: Double) -> Bool {
        if let last { tokens = min(burst, tokens + max(0, now - last) * rate) }
        last = now
        guard tokens >= 1 else { return false }
        tokens -= 1
        return true
    }
}
