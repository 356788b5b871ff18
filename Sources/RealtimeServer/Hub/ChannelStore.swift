import RealtimeCore

/// What a connection receives from the hub, in order.
public enum Delivery: Sendable, Equatable {
    /// A subscription started: say `subscribed`, then the replayed messages follow.
    case subscribed(id: JSONText?, channel: ChannelName, latest: Position, recovered: Bool)
    case message(ChannelMessage)
}

/// Identifies one subscriber (a connection or a held poll) to the store.
public struct SubscriberID: Hashable, Sendable {
    public let value: UInt64
    public init(_ value: UInt64) { self.value = value }
}

/// Where channels, their positions and history live. In memory today; a shared
/// backend can implement the same protocol so several instances serve one stream.
public protocol ChannelStore: Sendable {
    /// Appends `data` as the channel's next offset and delivers it to every subscriber.
    func publish(_ channel: ChannelName, data: JSONText) async -> ChannelMessage

    /// Registers `mailbox` for live messages and, in the same step, puts `subscribed` and
    /// the replay into it — so nothing is lost or repeated between replay and live.
    func subscribe(_ subscription: Subscription, id: JSONText?, subscriber: SubscriberID,
                   mailbox: Mailbox<Delivery>) async -> Recovery

    func unsubscribe(_ channel: ChannelName, subscriber: SubscriberID) async
    /// Removes every subscription of a subscriber (its connection closed).
    func unsubscribeAll(_ subscriber: SubscriberID) async

    /// The channel's latest position (creating the channel, and its epoch, if new).
    func latest(_ channel: ChannelName) async -> Position

    /// Channels currently known.
    func channelCount() async -> Int
}
