/// The answer to `/poll`: messages after the given positions, the positions to pass
/// back next time, and whether each subscription's position was covered.
public struct PollResponse: Hashable, Sendable {
    public var messages: [ChannelMessage]
    public var positions: [ChannelName: Position]
    public var recovered: [ChannelName: Bool]

    public init(messages: [ChannelMessage] = [], positions: [ChannelName: Position] = [:], recovered: [ChannelName: Bool] = [:]) {
        self.messages = messages
        self.positions = positions
        self.recovered = recovered
    }

    public var json: String {
        let messagesText = "[" + messages.map(\.json).joined(separator: ",") + "]"
        var p = JSONObjectWriter()
        for (name, position) in positions.sorted(by: { $0.key < $1.key }) { p.add(name.value, position.description) }
        var r = JSONObjectWriter()
        for (name, ok) in recovered.sorted(by: { $0.key < $1.key }) { r.add(name.value, ok) }
        return #"{"messages":\#(messagesText),"positions":\#(p.text),"recovered":\#(r.text)}"#
    }
}
