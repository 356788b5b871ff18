/// One published message, as every transport carries it.
public struct ChannelMessage: Hashable, Sendable {
    public let channel: ChannelName
    public let epoch: Epoch
    public let offset: UInt64
    public let data: JSONText
    /// When it was published, in the history's clock (seconds).
    public let publishedAt: Double

    /// `{"channel":…,"epoch":…,"offset":N,"data":…}`: the body of SSE `message` events and
    /// of long-poll `messages`; WebSocket adds `"op":"message"` in front. Built once, at
    /// publish time: fan-out writes the same text to every subscriber.
    public let json: String
    /// The WebSocket `message` frame: the body with `"op":"message"` in front, also built
    /// once, so a thousand subscribers share one string.
    public let webSocketText: String

    public init(channel: ChannelName, epoch: Epoch, offset: UInt64, data: JSONText, publishedAt: Double) {
        self.channel = channel
        self.epoch = epoch
        self.offset = offset
        self.data = data
        self.publishedAt = publishedAt
        var w = JSONObjectWriter()
        w.add("channel", channel.value)
        w.add("epoch", epoch.value)
        w.add("offset", offset)
        w.add("data", data)
        json = w.text
        webSocketText = #"{"op":"message","# + json.dropFirst()
    }

    public var position: Position { Position(epoch: epoch, offset: offset) }

}
