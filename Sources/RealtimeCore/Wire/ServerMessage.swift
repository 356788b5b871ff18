/// A message the server sends on `/ws`, encoded as the spec writes it.
public enum ServerMessage: Hashable, Sendable {
    case welcome(session: String, pingIntervalMs: Int, serverTime: String)
    case subscribed(id: JSONText?, channel: ChannelName, latest: Position, recovered: Bool)
    case message(ChannelMessage)
    case published(id: JSONText?, message: ChannelMessage)
    case unsubscribed(id: JSONText?, channel: ChannelName)
    case pong(id: JSONText?, serverTime: String)
    case echo(id: JSONText?, data: JSONText)
    case error(id: JSONText?, code: String, message: String)

    /// The frame's text: compact JSON, one message per frame.
    public var text: String {
        var w = JSONObjectWriter()
        switch self {
        case .welcome(let session, let ping, let time):
            w.add("op", "welcome")
            w.add("session", session)
            w.add("pingIntervalMs", ping)
            w.add("serverTime", time)
        case .subscribed(let id, let channel, let latest, let recovered):
            w.add("op", "subscribed")
            if let id { w.add("id", id) }
            w.add("channel", channel.value)
            w.add("epoch", latest.epoch.value)
            w.add("offset", latest.offset)
            w.add("recovered", recovered)
        case .message(let m):
            return m.webSocketText
        case .published(let id, let m):
            w.add("op", "published")
            if let id { w.add("id", id) }
            w.add("channel", m.channel.value)
            w.add("epoch", m.epoch.value)
            w.add("offset", m.offset)
        case .unsubscribed(let id, let channel):
            w.add("op", "unsubscribed")
            if let id { w.add("id", id) }
            w.add("channel", channel.value)
        case .pong(let id, let time):
            w.add("op", "pong")
            if let id { w.add("id", id) }
            w.add("serverTime", time)
        case .echo(let id, let data):
            w.add("op", "echo")
            if let id { w.add("id", id) }
            w.add("data", data)
        case .error(let id, let code, let message):
            w.add("op", "error")
            if let id { w.add("id", id) }
            w.add("code", code)
            w.add("message", message)
        }
        return w.text
    }
}
