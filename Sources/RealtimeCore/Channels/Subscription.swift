/// Where a subscription starts.
public enum StartPoint: Hashable, Sendable {
    /// From now on: live messages only.
    case live
    /// Every retained message.
    case earliest
    /// Everything after this position.
    case after(Position)
}

/// A subscription as written on the wire: `CHANNEL`, `CHANNEL@EPOCH:OFFSET` or
/// `CHANNEL@earliest` (the `sub` parameter of `/sse` and `/poll`).
public struct Subscription: Hashable, Sendable, CustomStringConvertible {
    public let channel: ChannelName
    public let start: StartPoint

    public init(channel: ChannelName, start: StartPoint) {
        self.channel = channel
        self.start = start
    }

    public enum ParseError: Error, Equatable, CustomStringConvertible {
        case badChannel(String)
        case badPosition(String)

        public var description: String {
            switch self {
            case .badChannel(let c): "'\(c.prefix(140))' is not a channel name (1-128 of A-Z a-z 0-9 _ - : .)"
            case .badPosition(let p): "'\(p.prefix(80))' is not a position: use EPOCH:OFFSET or 'earliest'"
            }
        }
    }

    public static func parse(_ text: some StringProtocol) throws(ParseError) -> Subscription {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        guard let channel = ChannelName(parts[0]) else { throw .badChannel(String(parts[0])) }
        guard parts.count == 2 else { return Subscription(channel: channel, start: .live) }
        return Subscription(channel: channel, start: try StartPoint.parse(parts[1]))
    }

    public var description: String {
        switch start {
        case .live: channel.value
        case .earliest: "\(channel.value)@earliest"
        case .after(let p): "\(channel.value)@\(p)"
        }
    }
}

extension StartPoint {
    /// The `since` of a WebSocket subscribe: `earliest` or `EPOCH:OFFSET`.
    public static func parse(_ text: some StringProtocol) throws(Subscription.ParseError) -> StartPoint {
        if text == "earliest" { return .earliest }
        guard let position = Position(text) else { throw .badPosition(String(text)) }
        return .after(position)
    }
}
