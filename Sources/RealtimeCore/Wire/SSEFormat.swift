/// Server-Sent Events as the spec writes them. Every `data:` line is one line of
/// compact JSON (strings escape their newlines), so events can never be split.
public enum SSEFormat {
    /// First bytes of every stream: how long the browser waits before reconnecting.
    public static func preamble(retryMs: Int = 2000) -> String { "retry: \(retryMs)\n\n" }

    public static func subscribed(_ channel: ChannelName, latest: Position, recovered: Bool) -> String {
        var w = JSONObjectWriter()
        w.add("channel", channel.value)
        w.add("epoch", latest.epoch.value)
        w.add("offset", latest.offset)
        w.add("recovered", recovered)
        return "event: subscribed\ndata: \(w.text)\n\n"
    }

    /// `id:` is `CHANNEL@EPOCH:OFFSET`, so a reconnecting EventSource's `Last-Event-ID`
    /// is a subscription position.
    public static func message(_ m: ChannelMessage) -> String {
        "id: \(m.channel.value)@\(m.position)\nevent: message\ndata: \(m.json)\n\n"
    }

    public static let ping = ": ping\n\n"
}
