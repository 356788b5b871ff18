import Testing
@testable import RealtimeCore

@Suite("Stream request parameters (/sse, /poll)")
struct StreamRequestTests {
    let news = ChannelName("news")!
    let job = ChannelName("job:42")!

    func refusal(_ body: () throws -> Void) -> StreamRequestError? {
        do { try body() } catch { return error as? StreamRequestError }
        return nil
    }

    @Test func subsParseInOrderWithTheirStartPoints() throws {
        let subs = try StreamRequest.subscriptions(["news", "job:42@e8c1:17", "a.b@earliest"], maxSubscriptions: 10)
        #expect(subs.map(\.channel.value) == ["news", "job:42", "a.b"])
        #expect(subs[0].start == .live)
        #expect(subs[1].start == .after(Position("e8c1:17")!))
        #expect(subs[2].start == .earliest)
    }

    @Test(arguments: [
        ([String](), "missing-sub"),
        (["bad name"], "bad-channel"),
        ([""], "bad-channel"),
        (["news@yesterday"], "bad-position"),
        (["news@E8C1:1"], "bad-position"),
        (["news@e8c1:-1"], "bad-position"),
        (["news@e8c1:99999999999999999999"], "bad-position"),
        (["news", "news@e8c1:3"], "duplicate-sub"),
        (["a", "b", "c", "d"], "too-many-subscriptions"),
    ])
    func refusalsNameWhatIsWrong(subs: [String], code: String) {
        let error = refusal { _ = try StreamRequest.subscriptions(subs, maxSubscriptions: 3) }
        #expect(error?.code == code)
        #expect(error?.message.isEmpty == false)
        // The refusal quotes the value it refused.
        if code == "bad-channel" || code == "bad-position", let first = subs.first, let part = first.split(separator: "@").last {
            #expect(error?.message.contains("'\(part)'") == true)
        }
    }

    @Test func lastEventIDIsTheSingleSubsPosition() throws {
        let subs = try StreamRequest.subscriptions(["job:42"], lastEventID: "job:42@e8c1:19", maxSubscriptions: 10)
        #expect(subs == [Subscription(channel: job, start: .after(Position("e8c1:19")!))])
        // An EventSource reconnecting by itself repeats its URL; the header it adds is newer.
        let again = try StreamRequest.subscriptions(["job:42@e8c1:3"], lastEventID: "job:42@e8c1:19", maxSubscriptions: 10)
        #expect(again[0].start == .after(Position("e8c1:19")!))
        // Empty header: as if absent.
        #expect(try StreamRequest.subscriptions(["job:42"], lastEventID: "", maxSubscriptions: 10)[0].start == .live)
    }

    @Test func lastEventIDIsIgnoredWithSeveralSubs() throws {
        let subs = try StreamRequest.subscriptions(["job:42", "news"], lastEventID: "job:42@e8c1:19", maxSubscriptions: 10)
        #expect(subs.map(\.start) == [.live, .live])
    }

    @Test(arguments: ["garbage", "job:42@earliest", "news@e8c1:19", "job:42@e8c1", "@e8c1:1"])
    func badLastEventIDIsRefused(_ header: String) {
        let error = refusal { _ = try StreamRequest.subscriptions(["job:42"], lastEventID: header, maxSubscriptions: 10) }
        #expect(error?.code == "bad-last-event-id")
    }

    @Test func eventIDsAreChannelAtPosition() {
        #expect(StreamRequest.eventID("job:42@e8c1:18") == Subscription(channel: job, start: .after(Position("e8c1:18")!)))
        #expect(StreamRequest.eventID("job:42") == nil)
        #expect(StreamRequest.eventID("job:42@earliest") == nil)
        #expect(StreamRequest.eventID(String(repeating: "a", count: 500) + "@e:1") == nil)
    }

    @Test func pollTimeoutDefaultsAndBounds() throws {
        #expect(try StreamRequest.pollTimeout(nil, defaultSeconds: 25, maxSeconds: 60) == 25)
        #expect(try StreamRequest.pollTimeout("0", defaultSeconds: 25, maxSeconds: 60) == 0)
        #expect(try StreamRequest.pollTimeout("0.5", defaultSeconds: 25, maxSeconds: 60) == 0.5)
        #expect(try StreamRequest.pollTimeout("60", defaultSeconds: 25, maxSeconds: 60) == 60)
    }

    @Test(arguments: ["", "61", "-1", "abc", "1e3", "inf", "nan", " 5", "5.", ".5", "0x10", "99999999999999999"])
    func badPollTimeoutsAreRefused(_ text: String) {
        let error = refusal { _ = try StreamRequest.pollTimeout(text, defaultSeconds: 25, maxSeconds: 60) }
        #expect(error?.code == "bad-timeout")
        #expect(error?.message.contains("60") == true)
    }

    @Test func sseErrorEventIsOneEventOfJSON() {
        let text = SSEFormat.error(code: "slow-consumer", message: "fell \"behind\"\nby a lot")
        #expect(text == "event: error\ndata: {\"error\":\"slow-consumer\",\"message\":\"fell \\\"behind\\\"\\nby a lot\"}\n\n")
    }
}
