/// How much of a channel's past is kept.
public struct HistoryLimits: Hashable, Sendable {
    /// Messages kept per channel (spec default 1000).
    public var size: Int
    /// Seconds a message is kept (spec default 300).
    public var ttl: Double

    public init(size: Int = 1000, ttl: Double = 300) {
        self.size = max(0, size)
        self.ttl = max(0, ttl)
    }
}

/// What a subscription gets when it starts: the messages to replay, whether the start
/// position was covered, and the channel's position at that moment.
public struct Recovery: Hashable, Sendable {
    /// `false`: the position was not covered (other epoch, or older than what is kept);
    /// no history is sent and the client must report a gap.
    public let recovered: Bool
    /// In offset order, all after the requested position.
    public let messages: [ChannelMessage]
    /// The channel's latest position when the subscription started.
    public let latest: Position
}

/// The offsets, bounded history and recovery rule of one channel. Pure: the caller
/// passes the time, so tests need no clock.
public struct ChannelHistory: Sendable {
    public let channel: ChannelName
    public let epoch: Epoch
    public let limits: HistoryLimits
    /// The last offset given out (0: nothing published yet in this epoch).
    public private(set) var latest: UInt64 = 0
    /// When the channel was last published to or subscribed to (for idle eviction).
    public private(set) var lastUsed: Double
    private var retained: [ChannelMessage] = []
    private var head = 0

    public init(channel: ChannelName, epoch: Epoch, limits: HistoryLimits, now: Double) {
        self.channel = channel
        self.epoch = epoch
        self.limits = limits
        self.lastUsed = now
    }

    public var latestPosition: Position { Position(epoch: epoch, offset: latest) }

    /// Offsets still retained, oldest first.
    public var retainedCount: Int { retained.count - head }
    public var earliestRetained: UInt64? { head < retained.count ? retained[head].offset : nil }

    /// Publishes `data` as the next offset.
    public mutating func append(_ data: JSONText, now: Double) -> ChannelMessage {
        latest += 1
        lastUsed = now
        let message = ChannelMessage(channel: channel, epoch: epoch, offset: latest, data: data, publishedAt: now)
        if limits.size > 0 { retained.append(message) }
        trim(now: now)
        return message
    }

    /// Drops what is past the size or the TTL.
    public mutating func trim(now: Double) {
        while retainedCount > limits.size { head += 1 }
        while head < retained.count, now - retained[head].publishedAt > limits.ttl { head += 1 }
        // Compact now and then so dropped messages are freed.
        if head > 64 && head * 2 > retained.count {
            retained.removeFirst(head)
            head = 0
        }
    }

    /// The spec's recovery rule. `E:K` is covered when `E` is this epoch and
    /// `earliest - 1 <= K <= latest` (with nothing retained, only `K == latest`).
    public mutating func recover(from start: StartPoint, now: Double) -> Recovery {
        trim(now: now)
        lastUsed = now
        let kept = Array(retained[head...])
        switch start {
        case .live:
            return Recovery(recovered: true, messages: [], latest: latestPosition)
        case .earliest:
            return Recovery(recovered: true, messages: kept, latest: latestPosition)
        case .after(let position):
            guard covers(position) else { return Recovery(recovered: false, messages: [], latest: latestPosition) }
            return Recovery(recovered: true, messages: kept.filter { $0.offset > position.offset }, latest: latestPosition)
        }
    }

    /// Messages after `position` if it is covered; nil when it is not (a gap).
    public func messages(after position: Position) -> [ChannelMessage]? {
        guard covers(position) else { return nil }
        return retained[head...].filter { $0.offset > position.offset }
    }

    public func covers(_ position: Position) -> Bool {
        guard position.epoch == epoch, position.offset <= latest else { return false }
        guard let earliest = earliestRetained else { return position.offset == latest }
        return position.offset + 1 >= earliest
    }

    /// Marks the channel as used (a subscription), for idle eviction.
    public mutating func touch(now: Double) { lastUsed = now }
}
