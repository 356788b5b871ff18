/// Builds one `/poll` answer from what the hub delivers for its subscriptions: each
/// subscription's `subscribed` (latest position, recovered), then its messages in offset
/// order. Bounded: at most `maxMessages` messages go into the answer; a channel whose
/// messages did not all fit gets the position just before the first one left out, so the
/// next poll resumes there and nothing is lost or repeated.
public struct PollAssembler: Sendable {
    private struct Entry: Sendable {
        let start: StartPoint
        /// Known once the channel's `subscribed` arrived.
        var latest: Position?
        var recovered: Bool?
        /// Where this answer starts for the channel (nil for `earliest` until its first message).
        var base: Position?
        /// The last message put into the answer.
        var last: Position?
        /// The first message left out because the answer was full.
        var firstLeftOut: Position?
    }

    public let maxMessages: Int
    public private(set) var messages: [ChannelMessage] = []
    private var entries: [ChannelName: Entry] = [:]
    private var anyLeftOut = false

    public init(subscriptions: [Subscription], maxMessages: Int) {
        self.maxMessages = max(1, maxMessages)
        for s in subscriptions { entries[s.channel] = Entry(start: s.start) }
    }

    /// A subscription started: the channel's latest position and whether the requested
    /// position was covered.
    public mutating func subscribed(_ channel: ChannelName, latest: Position, recovered: Bool) {
        guard var e = entries[channel], e.latest == nil else { return }
        e.latest = latest
        e.recovered = recovered
        switch (e.start, recovered) {
        case (.after(let p), true): e.base = p
        case (.earliest, true): e.base = nil
        default: e.base = latest  // from now on, or not covered: only what comes after latest
        }
        entries[channel] = e
    }

    /// A message delivered to the subscription (replayed or live).
    public mutating func received(_ m: ChannelMessage) {
        guard var e = entries[m.channel], let latest = e.latest, m.epoch == latest.epoch else { return }
        if let cursor = e.last ?? e.base, m.offset <= cursor.offset { return }  // never twice
        if e.firstLeftOut != nil { return }  // already cut: the next poll resumes before it
        if messages.count >= maxMessages {
            e.firstLeftOut = m.position
            anyLeftOut = true
        } else {
            messages.append(m)
            e.last = m.position
        }
        entries[m.channel] = e
    }

    /// Every subscription has said `subscribed`.
    public var isComplete: Bool { entries.values.allSatisfy { $0.latest != nil } }

    /// Answer now: there are messages, or a position was not covered (the client must
    /// learn of its gap at once).
    public var isReady: Bool {
        !messages.isEmpty || anyLeftOut || entries.values.contains { $0.recovered == false }
    }

    /// The positions to pass back as `sub=CHANNEL@POSITION`.
    public var positions: [ChannelName: Position] {
        var out: [ChannelName: Position] = [:]
        for (name, e) in entries {
            if let last = e.last {
                out[name] = last
            } else if let cut = e.firstLeftOut {
                out[name] = Position(epoch: cut.epoch, offset: cut.offset - 1)
            } else if let p = e.base ?? e.latest {
                out[name] = p
            }
        }
        return out
    }

    public var response: PollResponse {
        PollResponse(messages: messages, positions: positions, recovered: entries.compactMapValues(\.recovered))
    }
}
