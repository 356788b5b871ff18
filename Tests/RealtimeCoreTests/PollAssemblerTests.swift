import Testing
@testable import RealtimeCore

@Suite("Poll answers")
struct PollAssemblerTests {
    let news = ChannelName("news")!
    let job = ChannelName("job:42")!
    let epoch = Epoch("e8c1")!

    func message(_ channel: ChannelName, _ offset: UInt64, epoch: Epoch? = nil) -> ChannelMessage {
        ChannelMessage(channel: channel, epoch: epoch ?? self.epoch, offset: offset, data: .number(Int(offset)), publishedAt: 0)
    }

    func at(_ offset: UInt64) -> Position { Position(epoch: epoch, offset: offset) }

    @Test func coveredPositionWithMessagesAnswersAtOnceAndAdvances() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(at(3)))], maxMessages: 100)
        a.subscribed(news, latest: at(5), recovered: true)
        a.received(message(news, 4))
        a.received(message(news, 5))
        #expect(a.isComplete && a.isReady)
        let r = a.response
        #expect(r.messages.map(\.offset) == [4, 5])
        #expect(r.positions == [news: at(5)])
        #expect(r.recovered == [news: true])
    }

    @Test func upToDatePositionWaits() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(at(5)))], maxMessages: 100)
        #expect(!a.isComplete)
        a.subscribed(news, latest: at(5), recovered: true)
        #expect(a.isComplete && !a.isReady)
        #expect(a.response.positions == [news: at(5)])
        a.received(message(news, 6))
        #expect(a.isReady && a.response.positions == [news: at(6)])
    }

    @Test func liveSubscriptionStartsAtLatestAndWaits() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .live)], maxMessages: 100)
        a.subscribed(news, latest: at(9), recovered: true)
        #expect(!a.isReady)
        #expect(a.response.positions == [news: at(9)])
        #expect(a.response.json == #"{"messages":[],"positions":{"news":"e8c1:9"},"recovered":{"news":true}}"#)
    }

    @Test func uncoveredPositionAnswersAtOnceWithLatest() {
        let old = Epoch("0ld")!
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(Position(epoch: old, offset: 40)))], maxMessages: 100)
        a.subscribed(news, latest: at(2), recovered: false)
        #expect(a.isReady)
        #expect(a.response.messages.isEmpty)
        #expect(a.response.positions == [news: at(2)])
        #expect(a.response.recovered == [news: false])
    }

    @Test func earliestReplaysFromTheFirstRetained() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .earliest)], maxMessages: 100)
        a.subscribed(news, latest: at(7), recovered: true)
        for o in 5...7 { a.received(message(news, UInt64(o))) }
        #expect(a.response.messages.map(\.offset) == [5, 6, 7])
        #expect(a.response.positions == [news: at(7)])
    }

    @Test func earliestWithNothingRetainedWaitsAtLatest() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .earliest)], maxMessages: 100)
        a.subscribed(news, latest: at(7), recovered: true)
        #expect(!a.isReady && a.response.positions == [news: at(7)])
    }

    @Test func severalSubscriptionsKeepOffsetOrderPerChannel() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(at(1))),
                                              Subscription(channel: job, start: .live)], maxMessages: 100)
        a.subscribed(news, latest: at(3), recovered: true)
        a.received(message(news, 2))
        a.received(message(news, 3))
        a.subscribed(job, latest: at(10), recovered: true)
        a.received(message(news, 4))
        a.received(message(job, 11))
        let r = a.response
        #expect(r.messages.filter { $0.channel == news }.map(\.offset) == [2, 3, 4])
        #expect(r.messages.filter { $0.channel == job }.map(\.offset) == [11])
        #expect(r.positions == [news: at(4), job: at(11)])
    }

    @Test func fullAnswerResumesRightAfterWhatFit() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(at(0))),
                                              Subscription(channel: job, start: .earliest)], maxMessages: 3)
        a.subscribed(news, latest: at(5), recovered: true)
        for o in 1...5 { a.received(message(news, UInt64(o))) }
        a.subscribed(job, latest: at(8), recovered: true)
        for o in 6...8 { a.received(message(job, UInt64(o))) }
        let r = a.response
        #expect(r.messages.map(\.offset) == [1, 2, 3])
        // news resumes after 3; job (earliest) had nothing fit: it resumes before its first message.
        #expect(r.positions == [news: at(3), job: at(5)])
        #expect(a.isReady)
    }

    @Test func duplicatesAndOtherEpochsAreNeverAnswered() {
        var a = PollAssembler(subscriptions: [Subscription(channel: news, start: .after(at(2)))], maxMessages: 100)
        a.received(message(news, 3))  // before subscribed: not ours yet
        a.subscribed(news, latest: at(4), recovered: true)
        a.received(message(news, 2))
        a.received(message(news, 3))
        a.received(message(news, 3))
        a.received(message(news, 4, epoch: Epoch("ffff")!))
        a.received(message(job, 9))
        #expect(a.response.messages.map(\.offset) == [3])
        #expect(a.response.positions == [news: at(3)])
    }
}
