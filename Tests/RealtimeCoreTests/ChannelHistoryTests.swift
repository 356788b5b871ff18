import Testing
@testable import RealtimeCore

@Suite("Channel history and recovery")
struct ChannelHistoryTests {
    let name = ChannelName("job:42")!
    let epoch = Epoch("e8c1a90f")!

    func history(size: Int = 5, ttl: Double = 300, publish count: Int = 0) -> ChannelHistory {
        var h = ChannelHistory(channel: name, epoch: epoch, limits: HistoryLimits(size: size, ttl: ttl), now: 0)
        for i in 0..<count { _ = h.append(JSONText.number(i + 1), now: Double(i)) }
        return h
    }

    @Test func offsetsStartAtOneAndIncrease() {
        var h = history()
        let a = h.append(.string("a"), now: 0)
        let b = h.append(.string("b"), now: 1)
        #expect(a.offset == 1 && b.offset == 2)
        #expect(h.latestPosition == Position(epoch: epoch, offset: 2))
    }

    @Test func recoveryWithinHistoryReplaysWhatWasMissed() {
        var h = history(publish: 4)
        let r = h.recover(from: .after(Position(epoch: epoch, offset: 2)), now: 5)
        #expect(r.recovered)
        #expect(r.messages.map(\.offset) == [3, 4])
        #expect(r.latest.offset == 4)
    }

    @Test func positionAtLatestIsCoveredWithNothingToSend() {
        var h = history(publish: 4)
        let r = h.recover(from: .after(Position(epoch: epoch, offset: 4)), now: 5)
        #expect(r.recovered && r.messages.isEmpty)
    }

    @Test func positionJustBeforeTheEarliestRetainedIsCovered() {
        var h = history(size: 3, publish: 6)  // keeps 4, 5, 6
        #expect(h.earliestRetained == 4)
        let r = h.recover(from: .after(Position(epoch: epoch, offset: 3)), now: 7)
        #expect(r.recovered)
        #expect(r.messages.map(\.offset) == [4, 5, 6])
    }

    @Test func positionBeyondHistoryIsAGap() {
        var h = history(size: 3, publish: 6)
        let r = h.recover(from: .after(Position(epoch: epoch, offset: 2)), now: 7)
        #expect(!r.recovered)
        #expect(r.messages.isEmpty)
        #expect(r.latest.offset == 6)
    }

    @Test func anotherEpochIsAGap() {
        var h = history(publish: 3)
        let r = h.recover(from: .after(Position(epoch: Epoch("00000000")!, offset: 3)), now: 5)
        #expect(!r.recovered && r.messages.isEmpty)
    }

    @Test func positionFromTheFutureIsAGap() {
        var h = history(publish: 3)
        #expect(!h.recover(from: .after(Position(epoch: epoch, offset: 9)), now: 5).recovered)
    }

    @Test func expiredMessagesAreNotReplayedAndMakeAGap() {
        var h = history(ttl: 10, publish: 3)  // published at t = 0, 1, 2
        // At t = 11.5 the messages published at t = 0 and 1 are older than 10 s.
        let r = h.recover(from: .after(Position(epoch: epoch, offset: 0)), now: 11.5)
        #expect(!r.recovered)
        #expect(h.earliestRetained == 3)
        let ok = h.recover(from: .after(Position(epoch: epoch, offset: 2)), now: 11.5)
        #expect(ok.recovered && ok.messages.map(\.offset) == [3])
    }

    @Test func emptyChannelCoversOnlyLatest() {
        var h = history(ttl: 1, publish: 2)
        h.trim(now: 100)  // everything expired
        #expect(h.retainedCount == 0)
        #expect(h.covers(Position(epoch: epoch, offset: 2)))
        #expect(!h.covers(Position(epoch: epoch, offset: 1)))
    }

    @Test func earliestSendsEverythingRetainedAndLiveSendsNothing() {
        var h = history(size: 3, publish: 5)
        let all = h.recover(from: .earliest, now: 6)
        #expect(all.messages.map(\.offset) == [3, 4, 5])
        let live = h.recover(from: .live, now: 6)
        #expect(live.recovered && live.messages.isEmpty && live.latest.offset == 5)
    }

    @Test func historyStaysBoundedOverManyPublishes() {
        let h = history(size: 10, publish: 10_000)
        #expect(h.retainedCount == 10)
        #expect(h.earliestRetained == 9_991)
    }

    @Test func zeroSizeHistoryKeepsOffsetsButNoMessages() {
        var h = history(size: 0, publish: 3)
        #expect(h.latest == 3 && h.retainedCount == 0)
        let atLatest = h.recover(from: .after(Position(epoch: epoch, offset: 3)), now: 4)
        let before = h.recover(from: .after(Position(epoch: epoch, offset: 2)), now: 4)
        #expect(atLatest.recovered)
        #expect(!before.recovered)
    }
}

@Suite("Names, positions and subscriptions")
struct NamingTests {
    @Test(arguments: ["job:42", "news", "a", "A-Z_0.9:x", String(repeating: "x", count: 128)])
    func validChannelNames(_ text: String) { #expect(ChannelName(text) != nil) }

    @Test(arguments: ["", "a b", "job@1", "ünï", "a/b", String(repeating: "x", count: 129), "a\n"])
    func invalidChannelNames(_ text: String) { #expect(ChannelName(text) == nil) }

    @Test func positionsRoundTrip() throws {
        let p = try #require(Position("e8c1:17"))
        #expect(p.epoch.value == "e8c1" && p.offset == 17 && p.description == "e8c1:17")
        for bad in ["", "e8c1", ":17", "e8c1:", "e8c1:-1", "E8C1:1", "e8c1:1:2", "e8c1:99999999999999999999"] {
            #expect(Position(bad) == nil, "\(bad)")
        }
    }

    @Test func subscriptionsParseEveryForm() throws {
        #expect(try Subscription.parse("news").start == .live)
        #expect(try Subscription.parse("news@earliest").start == .earliest)
        #expect(try Subscription.parse("job:42@e8c1:17").start == .after(Position("e8c1:17")!))
        #expect(try Subscription.parse("job:42@e8c1:17").description == "job:42@e8c1:17")
        #expect(throws: Subscription.ParseError.self) { try Subscription.parse("bad name") }
        #expect(throws: Subscription.ParseError.self) { try Subscription.parse("news@yesterday") }
    }

    @Test func epochsAreRandomAndValid() {
        let a = Epoch.random(), b = Epoch.random()
        #expect(a != b)
        #expect(Epoch(a.value) == a)
    }
}
