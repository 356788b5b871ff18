import Foundation

/// A bounded uniform sample of a stream of values (reservoir sampling, algorithm R),
/// with exact count, minimum and maximum, for percentiles of connect times.
/// Deterministic: its random source is a seeded SplitMix64.
public struct SampleReservoir: Sendable, Equatable {
    public let capacity: Int
    public private(set) var samples: [Double] = []
    public private(set) var seen = 0
    public private(set) var minimum: Double?
    public private(set) var maximum: Double?
    private var random: UInt64

    public init(capacity: Int = 1024, seed: UInt64 = 0x9E37_79B9_7F4A_7C15) {
        self.capacity = max(1, capacity)
        self.random = seed
    }

    public mutating func add(_ value: Double) {
        guard value.isFinite else { return }
        seen += 1
        minimum = Swift.min(minimum ?? value, value)
        maximum = Swift.max(maximum ?? value, value)
        if samples.count < capacity {
            samples.append(value)
        } else {
            let j = Int(nextRandom() % UInt64(seen))
            if j < capacity { samples[j] = value }
        }
    }

    /// Nearest-rank percentiles (`p` in 0...100) of the sample, in the order asked; nil
    /// when nothing was seen.
    public func percentiles(_ ps: [Double]) -> [Double?] {
        guard !samples.isEmpty else { return ps.map { _ in nil } }
        let sorted = samples.sorted()
        return ps.map { p in
            let rank = Int((Swift.min(100, Swift.max(0, p)) / 100 * Double(sorted.count)).rounded(.up))
            return sorted[Swift.max(0, rank - 1)]
        }
    }

    private mutating func nextRandom() -> UInt64 {
        random &+= 0x9E37_79B9_7F4A_7C15
        var z = random
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// What clients reported through `POST /api/telemetry`, aggregated in bounded memory:
/// outcomes per transport and success rate, fallbacks, causes and close codes by
/// frequency (at most `maxDistinct` of each; the rest counted as `other`), connect-time
/// percentiles from a bounded reservoir. Served at `GET /api/stats`.
public struct TelemetryStats: Sendable {
    public struct PerTransport: Sendable, Equatable {
        public var outcomes: [TelemetryOutcome: Int] = [:]
        public var connectMs: SampleReservoir

        init(reservoir: Int) { connectMs = SampleReservoir(capacity: reservoir) }

        public func count(_ outcome: TelemetryOutcome) -> Int { outcomes[outcome] ?? 0 }

        /// Connected attempts over connected and failed ones; nil before any attempt.
        public var successRate: Double? {
            let attempts = count(.connected) + count(.failed)
            return attempts == 0 ? nil : Double(count(.connected)) / Double(attempts)
        }
    }

    public let since: Date
    public let maxDistinct: Int
    public private(set) var events = 0
    public private(set) var transports: [TelemetryTransport: PerTransport]
    public private(set) var causes: [String: Int] = [:]
    public private(set) var otherCauses = 0
    public private(set) var closeCodes: [Int: Int] = [:]
    public private(set) var otherCloseCodes = 0

    public init(since: Date, reservoir: Int = 1024, maxDistinct: Int = 100) {
        self.since = since
        self.maxDistinct = max(1, maxDistinct)
        transports = Dictionary(uniqueKeysWithValues: TelemetryTransport.allCases.map { ($0, PerTransport(reservoir: reservoir)) })
    }

    public mutating func add(_ batch: [TelemetryEvent]) {
        for event in batch { add(event) }
    }

    public mutating func add(_ event: TelemetryEvent) {
        events += 1
        var t = transports[event.transport]!
        t.outcomes[event.outcome, default: 0] += 1
        if event.outcome == .connected, let ms = event.connectMs { t.connectMs.add(ms) }
        transports[event.transport] = t
        if let cause = event.cause {
            if causes[cause] != nil || causes.count < maxDistinct { causes[cause, default: 0] += 1 } else { otherCauses += 1 }
        }
        if let code = event.closeCode {
            if closeCodes[code] != nil || closeCodes.count < maxDistinct { closeCodes[code, default: 0] += 1 } else { otherCloseCodes += 1 }
        }
    }

    /// Causes, most frequent first (ties by name).
    public var causesByFrequency: [(cause: String, count: Int)] {
        causes.map { (cause: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.cause < $1.cause }
    }

    public var closeCodesByFrequency: [(code: Int, count: Int)] {
        closeCodes.map { (code: $0.key, count: $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.code < $1.code }
    }

    /// ```
    /// {"since":…,"events":N,
    ///  "transports":{"websocket":{"connected":N,"failed":N,"closed":N,"fallback":N,"successRate":0.9,
    ///                 "connectMs":{"count":N,"p50":…,"p90":…,"p99":…,"min":…,"max":…}},…},
    ///  "fallbacks":{"websocket":N,"sse":N,"poll":N},
    ///  "causes":[{"cause":"abnormal-closure","count":N},…],"otherCauses":N,
    ///  "closeCodes":[{"code":1006,"count":N},…],"otherCloseCodes":N}
    /// ```
    public var json: JSONText {
        var w = JSONObjectWriter()
        w.add("since", FeatureTime.text(since))
        w.add("events", events)
        var ts = JSONObjectWriter()
        var fallbacks = JSONObjectWriter()
        for kind in TelemetryTransport.allCases {
            let t = transports[kind]!
            var o = JSONObjectWriter()
            for outcome in TelemetryOutcome.allCases { o.add(outcome.rawValue, t.count(outcome)) }
            o.add("successRate", JSONText.optionalDecimal(t.successRate.map { ($0 * 10_000).rounded() / 10_000 }))
            let p = t.connectMs.percentiles([50, 90, 99])
            var c = JSONObjectWriter()
            c.add("count", t.connectMs.seen)
            c.add("p50", JSONText.optionalDecimal(p[0]))
            c.add("p90", JSONText.optionalDecimal(p[1]))
            c.add("p99", JSONText.optionalDecimal(p[2]))
            c.add("min", JSONText.optionalDecimal(t.connectMs.minimum))
            c.add("max", JSONText.optionalDecimal(t.connectMs.maximum))
            o.add("connectMs", c.json)
            ts.add(kind.rawValue, o.json)
            fallbacks.add(kind.rawValue, t.count(.fallback))
        }
        w.add("transports", ts.json)
        w.add("fallbacks", fallbacks.json)
        w.add("causes", JSONText(unchecked: "[" + causesByFrequency.map { c in
            var o = JSONObjectWriter()
            o.add("cause", c.cause)
            o.add("count", c.count)
            return o.text
        }.joined(separator: ",") + "]"))
        w.add("otherCauses", otherCauses)
        w.add("closeCodes", JSONText(unchecked: "[" + closeCodesByFrequency.map { c in
            var o = JSONObjectWriter()
            o.add("code", c.code)
            o.add("count", c.count)
            return o.text
        }.joined(separator: ",") + "]"))
        w.add("otherCloseCodes", otherCloseCodes)
        return w.json
    }
}
