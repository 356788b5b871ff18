import Foundation
import NIOConcurrencyHelpers
import RealtimeCore
import Testing
@testable import RealtimeServer

/// The hub's guarantees, with a controlled clock: replay and live never overlap or leave
/// a gap, slow consumers are dropped instead of buffered, idle channels are evicted.
@Suite("Channel store")
struct ChannelStoreTests {
    final class TestClock: Sendable {
        private let now = NIOLockedValueBox<Double>(0)
        func advance(_ seconds: Double) { now.withLockedValue { $0 += seconds } }
        var read: @Sendable () -> Double { { self.now.withLockedValue { $0 } } }
    }

    let news = ChannelName("news")!

    func messages(_ deliveries: [Delivery]) -> [UInt64] {
        deliveries.compactMap { if case .message(let m) = $0 { m.offset } else { nil } }
    }

    @Test func subscribeReplaysThenDeliversLiveWithoutGapOrRepeat() async throws {
        let store = InMemoryChannelStore(limits: HistoryLimits(size: 100, ttl: 300))
        for i in 1...5 { _ = await store.publish(news, data: .number(i)) }
        let latest = await store.latest(news)
        let mailbox = Mailbox<Delivery>(capacity: 100)
        let recovery = await store.subscribe(
            Subscription(channel: news, start: .after(Position(epoch: latest.epoch, offset: 2))), id: .number(1),
            subscriber: SubscriberID(1), mailbox: mailbox)
        #expect(recovery.recovered)
        for i in 6...8 { _ = await store.publish(news, data: .number(i)) }
        let batch = try #require(await mailbox.next())
        guard case .subscribed(let id, _, let position, let recovered) = batch.first else {
            Issue.record("first delivery is not subscribed"); return
        }
        #expect(id == .number(1) && recovered && position.offset == 5)
        #expect(messages(batch) == [3, 4, 5, 6, 7, 8])
    }

    @Test func concurrentPublishesAndSubscribesNeverLoseOrRepeat() async throws {
        let store = InMemoryChannelStore(limits: HistoryLimits(size: 10_000, ttl: 300))
        let mailbox = Mailbox<Delivery>(capacity: 10_000)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for i in 1...500 { _ = await store.publish(self.news, data: .number(i)) } }
            group.addTask {
                // Subscribe from the start while publishes are under way.
                let epoch = await store.latest(self.news).epoch
                _ = await store.subscribe(Subscription(channel: self.news, start: .after(Position(epoch: epoch, offset: 0))),
                                          id: nil, subscriber: SubscriberID(7), mailbox: mailbox)
            }
            try await group.waitForAll()
        }
        var offsets: [UInt64] = []
        while offsets.count < 500, let batch = await mailbox.next() { offsets += messages(batch) }
        #expect(offsets == Array(1...500))
    }

    @Test func slowConsumerIsDroppedNotBuffered() async {
        let store = InMemoryChannelStore(limits: HistoryLimits(size: 10, ttl: 300))
        let slow = Mailbox<Delivery>(capacity: 5)
        let fast = Mailbox<Delivery>(capacity: 1000)
        _ = await store.subscribe(Subscription(channel: news, start: .live), id: nil, subscriber: SubscriberID(1), mailbox: slow)
        _ = await store.subscribe(Subscription(channel: news, start: .live), id: nil, subscriber: SubscriberID(2), mailbox: fast)
        for i in 1...20 { _ = await store.publish(news, data: .number(i)) }
        #expect(slow.overflowed)
        #expect(await slow.next() == nil)
        #expect(!fast.overflowed)
        #expect(messages(await fast.next() ?? []) == Array(1...20))
    }

    @Test func idleChannelsAreEvictedAndComeBackWithANewEpoch() async {
        let clock = TestClock()
        let store = InMemoryChannelStore(limits: HistoryLimits(size: 10, ttl: 60), clock: clock.read)
        let first = await store.publish(news, data: .number(1))
        clock.advance(120)
        _ = await store.publish(ChannelName("other")!, data: .number(1))  // triggers a sweep
        #expect(await store.channelCount() == 1)
        let again = await store.publish(news, data: .number(2))
        #expect(again.epoch != first.epoch)
        #expect(again.offset == 1)
    }

    @Test func subscribedChannelsAreNotEvicted() async {
        let clock = TestClock()
        let store = InMemoryChannelStore(limits: HistoryLimits(size: 10, ttl: 60), clock: clock.read)
        let first = await store.publish(news, data: .number(1))
        _ = await store.subscribe(Subscription(channel: news, start: .live), id: nil, subscriber: SubscriberID(1),
                                  mailbox: Mailbox(capacity: 10))
        clock.advance(120)
        _ = await store.publish(ChannelName("other")!, data: .number(1))
        let next = await store.publish(news, data: .number(2))
        #expect(next.epoch == first.epoch && next.offset == 2)
    }

    @Test func unsubscribeStopsDelivery() async {
        let store = InMemoryChannelStore(limits: HistoryLimits())
        let mailbox = Mailbox<Delivery>(capacity: 10)
        _ = await store.subscribe(Subscription(channel: news, start: .live), id: nil, subscriber: SubscriberID(1), mailbox: mailbox)
        _ = await mailbox.next()  // subscribed
        await store.unsubscribeAll(SubscriberID(1))
        _ = await store.publish(news, data: .number(1))
        mailbox.finish()
        #expect(await mailbox.next() == nil)
    }

    @Test func mailboxNextReturnsWhenCancelled() async {
        let mailbox = Mailbox<Int>(capacity: 10)
        let waiter = Task { await mailbox.next() }
        waiter.cancel()
        #expect(await waiter.value == nil)
    }
}
