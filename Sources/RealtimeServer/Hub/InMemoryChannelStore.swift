import Foundation
import RealtimeCore

/// The in-memory `ChannelStore`: one actor, so publishes and subscriptions are
/// serialised and every subscriber sees the same order. Idle channels with no
/// subscribers are evicted after their history TTL (their epoch ends with them).
public actor InMemoryChannelStore: ChannelStore {
    private struct Channel {
        var history: ChannelHistory
        var subscribers: [SubscriberID: Mailbox<Delivery>] = [:]
    }

    private var channels: [ChannelName: Channel] = [:]
    private let limits: HistoryLimits
    private let clock: @Sendable () -> Double
    private var lastSweep: Double = 0
    /// Called with each publish's subscriber count and the number of slow consumers dropped.
    private let onDeliver: @Sendable (_ delivered: Int, _ dropped: Int) -> Void

    public init(limits: HistoryLimits, clock: @escaping @Sendable () -> Double = { ProcessInfo.processInfo.systemUptime },
                onDeliver: @escaping @Sendable (Int, Int) -> Void = { _, _ in }) {
        self.limits = limits
        self.clock = clock
        self.onDeliver = onDeliver
    }

    private func channel(_ name: ChannelName, now: Double) -> Channel {
        if let c = channels[name] { return c }
        let c = Channel(history: ChannelHistory(channel: name, epoch: .random(), limits: limits, now: now))
        channels[name] = c
        return c
    }

    public func publish(_ name: ChannelName, data: JSONText) -> ChannelMessage {
        let now = clock()
        var c = channel(name, now: now)
        let message = c.history.append(data, now: now)
        var dropped: [SubscriberID] = []
        for (id, mailbox) in c.subscribers where !mailbox.offer(.message(message)) {
            dropped.append(id)
        }
        for id in dropped { c.subscribers[id] = nil }
        channels[name] = c
        onDeliver(c.subscribers.count, dropped.count)
        sweep(now: now)
        return message
    }

    public func subscribe(_ subscription: Subscription, id: JSONText?, subscriber: SubscriberID,
                          mailbox: Mailbox<Delivery>) -> Recovery {
        let now = clock()
        var c = channel(subscription.channel, now: now)
        let recovery = c.history.recover(from: subscription.start, now: now)
        mailbox.offer(.subscribed(id: id, channel: subscription.channel, latest: recovery.latest, recovered: recovery.recovered))
        for m in recovery.messages { mailbox.offer(.message(m)) }
        c.subscribers[subscriber] = mailbox
        channels[subscription.channel] = c
        return recovery
    }

    public func unsubscribe(_ name: ChannelName, subscriber: SubscriberID) {
        channels[name]?.subscribers[subscriber] = nil
    }

    public func unsubscribeAll(_ subscriber: SubscriberID) {
        for name in channels.keys where channels[name]?.subscribers[subscriber] != nil {
            channels[name]?.subscribers[subscriber] = nil
        }
    }

    public func latest(_ name: ChannelName) -> Position {
        let now = clock()
        var c = channel(name, now: now)
        c.history.touch(now: now)
        channels[name] = c
        return c.history.latestPosition
    }

    public func channelCount() -> Int { channels.count }

    /// Evicts channels nobody listens to whose last use is older than the history TTL:
    /// their history is gone anyway, so a later use starts a new epoch.
    private func sweep(now: Double) {
        guard now - lastSweep > max(1, limits.ttl / 10) else { return }
        lastSweep = now
        for (name, c) in channels where c.subscribers.isEmpty && now - c.history.lastUsed > limits.ttl {
            channels[name] = nil
        }
    }
}
