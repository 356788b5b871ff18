import Foundation
import Testing
@testable import RealtimeCore

@Suite("WebSocket wire messages")
struct WireTests {
    func decode(_ text: String) -> Result<ClientFrame, ClientFrameError> { ClientFrame.decode(text) }

    @Test func subscribeWithAndWithoutSince() throws {
        let a = try decode(#"{"op":"subscribe","channel":"job:42","since":"e8c1:17","id":3}"#).get()
        #expect(a.message == .subscribe(Subscription(channel: ChannelName("job:42")!, start: .after(Position("e8c1:17")!))))
        #expect(a.id?.text == "3")
        let b = try decode(#"{"op":"subscribe","channel":"news","since":"earliest","id":"x"}"#).get()
        #expect(b.message == .subscribe(Subscription(channel: ChannelName("news")!, start: .earliest)))
        #expect(b.id?.text == #""x""#)
        let c = try decode(#"{"op":"subscribe","channel":"news"}"#).get()
        #expect(c.message == .subscribe(Subscription(channel: ChannelName("news")!, start: .live)) && c.id == nil)
    }

    @Test func publishKeepsTheDataAsJSON() throws {
        let f = try decode(#"{"op":"publish","channel":"news","data":{"any":["json",1,true,null]}}"#).get()
        guard case .publish(let name, let data) = f.message else { Issue.record("not a publish"); return }
        #expect(name.value == "news")
        let back = try JSONSerialization.jsonObject(with: Data(data.text.utf8)) as? [String: Any]
        #expect((back?["any"] as? [Any])?.count == 4)
    }

    @Test func otherOps() throws {
        #expect(try decode(#"{"op":"ping","id":7}"#).get().message == .ping)
        #expect(try decode(#"{"op":"unsubscribe","channel":"job:42"}"#).get().message == .unsubscribe(ChannelName("job:42")!))
        #expect(try decode(#"{"op":"echo","data":"anything"}"#).get().message == .echo(data: .string("anything")))
    }

    @Test(arguments: ["not json", "[1,2]", "\"text\"", #"{"channel":"x"}"#, #"{"op":7}"#, ""])
    func malformedFramesCloseTheConnection(_ text: String) {
        guard case .failure(.malformed) = decode(text) else { Issue.record("\(text) was not malformed"); return }
    }

    @Test(arguments: [
        (#"{"op":"dance","id":1}"#, "unknown-op"),
        (#"{"op":"subscribe","channel":"bad name","id":1}"#, "bad-channel"),
        (#"{"op":"subscribe","id":1}"#, "bad-channel"),
        (#"{"op":"subscribe","channel":"ok","since":"yesterday","id":1}"#, "bad-since"),
        (#"{"op":"subscribe","channel":"ok","since":5,"id":1}"#, "bad-since"),
        (#"{"op":"publish","channel":"ok","id":1}"#, "bad-request"),
    ])
    func recoverableMistakesAreAnsweredWithTheirId(text: String, code: String) {
        guard case .failure(.rejected(let id, let c, let message)) = decode(text) else {
            Issue.record("\(text) was not rejected"); return
        }
        #expect(c == code)
        #expect(id?.text == "1")
        #expect(!message.isEmpty)
    }

    @Test func idMustBeNumberOrString() {
        guard case .failure(.rejected(_, "bad-request", _)) = decode(#"{"op":"ping","id":true}"#) else {
            Issue.record("a boolean id was accepted"); return
        }
        guard case .failure(.rejected(_, "bad-request", _)) = decode(#"{"op":"ping","id":{"a":1}}"#) else {
            Issue.record("an object id was accepted"); return
        }
    }

    @Test func serverMessagesAreTheSpecsJSON() throws {
        let m = ChannelMessage(channel: ChannelName("job:42")!, epoch: Epoch("e8c1")!, offset: 18,
                               data: JSONText(validating: #"{"progress":40}"#)!, publishedAt: 0)
        #expect(ServerMessage.message(m).text == #"{"op":"message","channel":"job:42","epoch":"e8c1","offset":18,"data":{"progress":40}}"#)
        #expect(ServerMessage.subscribed(id: nil, channel: m.channel, latest: Position("e8c1:19")!, recovered: true).text
                == #"{"op":"subscribed","channel":"job:42","epoch":"e8c1","offset":19,"recovered":true}"#)
        #expect(ServerMessage.published(id: .number(3), message: m).text
                == #"{"op":"published","id":3,"channel":"job:42","epoch":"e8c1","offset":18}"#)
        #expect(ServerMessage.error(id: .string("a"), code: "bad-channel", message: "say \"no\"\n").text
                == #"{"op":"error","id":"a","code":"bad-channel","message":"say \"no\"\n"}"#)
        for message in [ServerMessage.welcome(session: "s-1", pingIntervalMs: 20000, serverTime: "t"), .pong(id: .number(7), serverTime: "t"),
                        .unsubscribed(id: nil, channel: m.channel), .echo(id: nil, data: .string("x"))] {
            #expect((try? JSONSerialization.jsonObject(with: Data(message.text.utf8))) != nil, "\(message.text)")
        }
    }

    @Test func sseEventsAreSingleLineJSON() {
        let m = ChannelMessage(channel: ChannelName("job:42")!, epoch: Epoch("e8c1")!, offset: 18,
                               data: .string("line1\nline2"), publishedAt: 0)
        let event = SSEFormat.message(m)
        #expect(event.hasPrefix("id: job:42@e8c1:18\nevent: message\ndata: {"))
        #expect(event.hasSuffix("}\n\n"))
        #expect(event.split(separator: "\n").count == 3)
        #expect(SSEFormat.subscribed(m.channel, latest: m.position, recovered: false)
                == "event: subscribed\ndata: {\"channel\":\"job:42\",\"epoch\":\"e8c1\",\"offset\":18,\"recovered\":false}\n\n")
    }

    @Test func pollResponseCarriesPositionsToPassBack() throws {
        let m = ChannelMessage(channel: ChannelName("job:42")!, epoch: Epoch("e8c1")!, offset: 18,
                               data: JSONText(validating: #"{"progress":40}"#)!, publishedAt: 0)
        let r = PollResponse(messages: [m], positions: [m.channel: m.position], recovered: [m.channel: true])
        #expect(r.json == #"{"messages":[{"channel":"job:42","epoch":"e8c1","offset":18,"data":{"progress":40}}],"positions":{"job:42":"e8c1:18"},"recovered":{"job:42":true}}"#)
    }
}

@Suite("Policies")
struct PolicyTests {
    @Test func rateLimiterAllowsTheRateAndRefills() {
        var r = RateLimiter(rate: 10)
        let burst = (0..<20).filter { _ in r.allow(now: 0) }.count
        #expect(burst == 10)
        let tooSoon = r.allow(now: 0.05)
        let refilled = r.allow(now: 0.2)
        #expect(!tooSoon)
        #expect(refilled)
    }

    @Test func reportCodesAreReadableAndNormalised() {
        var g = SystemRandomNumberGenerator()
        let code = ReportCode.make(using: &g)
        #expect(code.count == 9 && code.dropFirst(4).first == "-")
        #expect(ReportCode.normalize(code.lowercased()) == code)
        #expect(ReportCode.normalize("k7q2 9xmo") == "K7Q2-9XM0")
        #expect(ReportCode.normalize("K7Q2-9XM") == nil)
        #expect(ReportCode.normalize("K7Q2-9XM!") == nil)
    }

    @Test func nonces() {
        #expect(ProbeNonce.isValid("wsd-abcdefghijklmnop"))
        #expect(!ProbeNonce.isValid("short"))
        #expect(!ProbeNonce.isValid(String(repeating: "a", count: 65)))
        #expect(!ProbeNonce.isValid("has space in it....."))
    }
}
