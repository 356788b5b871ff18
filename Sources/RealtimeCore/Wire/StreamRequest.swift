/// A refused `/sse` or `/poll` request: answered 400 with `{"error": code, "message": message}`.
public struct StreamRequestError: Error, Equatable, Sendable, CustomStringConvertible {
    public let code: String
    public let message: String

    public init(_ code: String, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code): \(message)" }
}

/// The parameters of `/sse` and `/poll`, checked. Outside input: every value is bounded
/// and every refusal names what was wrong.
public enum StreamRequest {
    /// The `sub` values of a request, in the order given, as subscriptions.
    ///
    /// With a single `sub`, a `Last-Event-ID` (`CHANNEL@EPOCH:OFFSET`, what an EventSource
    /// sends when it reconnects by itself) is that subscription's position: the spec's case
    /// is a `sub` without position; a `sub` that has one is the URL the EventSource was
    /// opened with, so the header, which it sent after reading this very stream, is newer.
    /// With several `sub`s the header is ignored.
    public static func subscriptions(_ subs: [String], lastEventID: String? = nil, maxSubscriptions: Int)
        throws(StreamRequestError) -> [Subscription]
    {
        guard !subs.isEmpty else {
            throw StreamRequestError("missing-sub", "give at least one sub=CHANNEL, sub=CHANNEL@EPOCH:OFFSET or sub=CHANNEL@earliest")
        }
        guard subs.count <= maxSubscriptions else {
            throw StreamRequestError("too-many-subscriptions",
                                     "\(subs.count) subscriptions; at most \(maxSubscriptions) per request (--max-subscriptions)")
        }
        var seen = Set<ChannelName>()
        var out: [Subscription] = []
        out.reserveCapacity(subs.count)
        for text in subs {
            let subscription: Subscription
            do { subscription = try Subscription.parse(text) } catch {
                switch error {
                case .badChannel: throw StreamRequestError("bad-channel", "sub: \(error.description)")
                case .badPosition: throw StreamRequestError("bad-position", "sub '\(text.prefix(200))': \(error.description)")
                }
            }
            guard seen.insert(subscription.channel).inserted else {
                throw StreamRequestError("duplicate-sub", "channel \(subscription.channel.value) is subscribed more than once")
            }
            out.append(subscription)
        }
        if out.count == 1, let header = lastEventID, !header.isEmpty {
            guard let resumed = eventID(header) else {
                throw StreamRequestError("bad-last-event-id",
                                         "Last-Event-ID '\(header.prefix(200))' is not CHANNEL@EPOCH:OFFSET")
            }
            guard resumed.channel == out[0].channel else {
                throw StreamRequestError("bad-last-event-id",
                                         "Last-Event-ID names channel \(resumed.channel.value) but sub is \(out[0].channel.value)")
            }
            out[0] = resumed
        }
        return out
    }

    /// An SSE event id, `CHANNEL@EPOCH:OFFSET`, as the subscription resuming after it;
    /// nil for anything else (`earliest` is not an event id).
    public static func eventID(_ text: some StringProtocol) -> Subscription? {
        guard text.utf8.count <= ChannelName.maxLength + 60,
              let s = try? Subscription.parse(text), case .after = s.start
        else { return nil }
        return s
    }

    /// The `timeout` of `/poll` in seconds: absent means `defaultSeconds`; otherwise a
    /// decimal number of seconds (`25`, `0.5`) from 0 to `maxSeconds`.
    public static func pollTimeout(_ text: String?, defaultSeconds: Double, maxSeconds: Double)
        throws(StreamRequestError) -> Double
    {
        guard let text else { return defaultSeconds }
        let refusal = StreamRequestError("bad-timeout", "timeout '\(text.prefix(40))' must be a number of seconds from 0 to \(formatted(maxSeconds))")
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let digits: (Substring) -> Bool = { !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 } }
        guard text.utf8.count <= 12, digits(parts[0]), parts.count == 1 || digits(parts[1]),
              let value = Double(text), value >= 0, value <= maxSeconds
        else { throw refusal }
        return value
    }

    static func formatted(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}
