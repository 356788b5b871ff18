import Foundation
import HTTPTypes
import RealtimeServer
import Testing
@testable import Probe

/// `/ws` as the spec writes it, driven by real clients against the real server.
@Suite("WebSocket /ws protocol", .timeLimit(.minutes(2)))
struct WebSocketProtocolTests {
    static var rfc3339ms: Regex<Substring> { #/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/# }

    @discardableResult
    static func publish(_ server: RunningServer, _ channel: String, _ body: String) async throws -> (epoch: String, offset: Int) {
        let answer = try await HTTP.request("POST", server.http + "/api/channels/\(channel)/publish", body: body)
        let json = try #require(answer.json, "publish answered \(answer.status) \(answer.body)")
        return (try #require(json["epoch"] as? String), try #require(json["offset"] as? Int))
    }

    @Test func welcomeComesFirst() async throws {
        try await TestServer.with(ServerConfiguration.forWSClient) { server in
            _ = try await WSReal.connect(server.ws + "/ws") { messages, _ in
                let welcome = try await messages.json()
                #expect(welcome["op"] as? String == "welcome")
                #expect((welcome["session"] as? String)?.hasPrefix("s-") == true)
                #expect(welcome["pingIntervalMs"] as? Int == 20000)
                let time = try #require(welcome["serverTime"] as? String)
                #expect(time.wholeMatch(of: Self.rfc3339ms) != nil, "serverTime \(time)")
            }
        }
    }

    @Test func everyReplyCarriesTheRequestID() async throws {
        try await TestServer.with(ServerConfiguration.forWSClient) { server in
            _ = try await WSReal.connect(server.ws + "/ws") { messages, out in
                _ = try await messages.json()
                try await out.write(.text(#"{"op":"ping","id":7}"#))
                let pong = try await messages.json()
                #expect(pong["op"] as? String == "pong" && pong["id"] as? Int == 7)
                #expect((pong["serverTime"] as? String)?.wholeMatch(of: Self.rfc3339ms) != nil)

                try await out.write(.text(#"{"op":"echo","id":"e1","data":{"a":[1,"x"]}}"#))
                let echo = try await messages.json()
                #expect(echo["op"] as? String == "echo" && echo["id"] as? String == "e1")
                #expect(((echo["data"] as? [String: Any])?["a"] as? [Any])?.count == 2)

                try await out.write(.text(#"{"op":"subscribe","channel":"news","id":"s"}"#))
                let subscribed = try await messages.json()
                #expect(subscribed["op"] as? String == "subscribed" && subscribed["id"] as? String == "s")
                #expect(subscribed["channel"] as? String == "news" && subscribed["recovered"] as? Bool == true)
                #expect(subscribed["offset"] as? Int == 0)
                let epoch = try #require(subscribed["epoch"] as? String)

                try await out.write(.text(#"{"op":"publish","channel":"news","id":3,"data":{"n":1}}"#))
                // The published reply and the live message both come, in either order.
                var seen: [String: [String: Any]] = [:]
                for _ in 0..<2 {
                    let m = try await messages.json()
                    seen[m["op"] as? String ?? "?"] = m
                }
                let published = try #require(seen["published"])
                #expect(published["id"] as? Int == 3 && published["channel"] as? String == "news")
                #expect(published["epoch"] as? String == epoch && published["offset"] as? Int == 1)
                let message = try #require(seen["message"])
                #expect(message["offset"] as? Int == 1 && (message["data"] as? [String: Any])?["n"] as? Int == 1)
                #expect(message["id"] == nil)

                try await out.write(.text(#"{"op":"unsubscribe","channel":"news","id":9}"#))
                let unsubscribed = try await messages.json()
                #expect(unsubscribed["op"] as? String == "unsubscribed" && unsubscribed["id"] as? Int == 9)
                #expect(unsubscribed["channel"] as? String == "news")

                // No longer subscribed: a publish elsewhere is not delivered.
                try await Self.publish(server, "news", "2")
                try await out.write(.text(#"{"op":"ping","id":"last"}"#))
                let last = try await messages.json()
                #expect(last["op"] as? String == "pong" && last["id"] as? String == "last")
            }
        }
    }

    @Test func liveMessagesFollowTheSubscription() async throws {
        try await TestServer.with(ServerConfiguration.forWSClient) { server in
            _ = try await WSReal.connect(server.ws + "/ws") { messages, out in
                _ = try await messages.json()
                try await out.write(.text(#"{"op":"subscribe","channel":"job:42"}"#))
                let subscribed = try await messages.json()
                #expect(subscribed["op"] as? String == "subscribed" && subscribed["id"] == nil)
                for i in 1...5 { try await Self.publish(server, "job:42", #"{"progress":\#(i * 10)}"#) }
                for i in 1...5 {
                    let m = try await messages.json()
                    #expect(m["op"] as? String == "message" && m["channel"] as? String == "job:42")
                    #expect(m["offset"] as? Int == i && m["epoch"] as? String == subscribed["epoch"] as? String)
                    #expect((m["data"] as? [String: Any])?["progress"] as? Int == i * 10)
                }
            }
        }
    }

    @Test func recoveryWithinHistoryReplaysWhatWasMissedThenLive() async throws {
        try await TestServer.with(ServerConfiguration.forWSClient) { server in
            var epoch = ""
            for i in 1...5 { epoch = try await Self.publish(server, "news", "\(i)").epoch }
            let e = epoch
            _ = try await WSReal.connect(server.ws + "/ws") { messages, out in
                _ = try await messages.json()
                try await out.write(.text(#"{"op":"subscribe","channel":"news","since":"\#(e):2","id":1}"#))
                let subscribed = try await messages.json()
                #expect(subscribed["op"] as? String == "subscribed" && subscribed["recovered"] as? Bool == true)
                #expect(subscribed["offset"] as? Int == 5 && subscribed["epoch"] as? String == e)
                for offset in 3...5 {
                    let m = try await messages.json()
                    #expect(m["op"] as? String == "message" && m["offset"] as? Int == offset)
                }
                try await Self.publish(server, "news", "6")
                let live = try await messages.json()
                #expect(live["offset"] as? Int == 6)

                // earliest: every retained message
                try await out.write(.text(#"{"op":"subscribe","channel":"news","since":"earliest","id":2}"#))
                let again = try await messages.json()
                #expect(again["op"] as? String == "subscribed" && again["id"] as? Int == 2 && again["recovered"] as? Bool == true)
                for offset in 1...6 {
                    #expect(try await messages.json()["offset"] as? Int == offset)
                }
            }
        }
    }

    @Test func recoveryBeyondHistoryOrAcrossEpochsSaysNotRecovered() async throws {
        try await TestServer.with({
            ServerConfiguration.forWSClient(&$0)
            $0.limits.history.size = 3
        }) { server in
            var epoch = ""
            for i in 1...10 { epoch = try await Self.publish(server, "news", "\(i)").epoch }
            let e = epoch
            _ = try await WSReal.connect(server.ws + "/ws") { messages, out in
                _ = try await messages.json()
                // Offset 2 fell out of the 3 retained (8, 9, 10).
                try await out.write(.text(#"{"op":"subscribe","channel":"news","since":"\#(e):2"}"#))
                let beyond = try await messages.json()
                #expect(beyond["op"] as? String == "subscribed" && beyond["recovered"] as? Bool == false)
                #expect(beyond["offset"] as? Int == 10)
                // No history follows, only live messages.
                try await Self.publish(server, "news", "11")
                #expect(try await messages.json()["offset"] as? Int == 11)

                // Now 9, 10, 11 are retained: 8 is covered (earliest retained - 1), 9..11 replayed.
                try await out.write(.text(#"{"op":"subscribe","channel":"news","since":"\#(e):8"}"#))
                let covered = try await messages.json()
                #expect(covered["recovered"] as? Bool == true && covered["offset"] as? Int == 11)
                for offset in 9...11 { #expect(try await messages.json()["offset"] as? Int == offset) }

                // A position in another epoch (the history was lost since): not recovered.
                let other = e == "0000beef" ? "0000feed" : "0000beef"
                try await out.write(.text(#"{"op":"subscribe","channel":"news","since":"\#(other):11","id":"x"}"#))
                let stale = try await messages.json()
                #expect(stale["op"] as? String == "subscribed" && stale["id"] as? String == "x")
                #expect(stale["recovered"] as? Bool == false && stale["epoch"] as? String == e)
                try await Self.publish(server, "news", "12")
                #expect(try await messages.json()["offset"] as? Int == 12)
            }
        }
    }

    @Test func recoverableMistakesGetAnErrorAndTheConnectionStaysOpen() async throws {
        _ = try await TestServer.with { server in
            try await WSRawClient.open(server, path: "/ws") { ws in
                #expect(ws.head.status == 101)
                try await ws.welcome()
                let cases: [(String, String, Any?)] = [
                    (#"{"op":"dance","id":1}"#, "unknown-op", 1),
                    (#"{"op":"subscribe","channel":"bad name!","id":"c"}"#, "bad-channel", "c"),
                    (#"{"op":"subscribe","channel":"news","since":"yesterday","id":2}"#, "bad-since", 2),
                    (#"{"op":"subscribe","channel":"news","since":17}"#, "bad-since", nil),
                    (#"{"op":"publish","channel":"news","id":3}"#, "bad-request", 3),
                    (#"{"op":"ping","id":true}"#, "bad-request", nil),
                ]
                for (text, code, id) in cases {
                    let reply = try await ws.ask(text)
                    #expect(reply["op"] as? String == "error", "\(text)")
                    #expect(reply["code"] as? String == code, "\(text) → \(reply)")
                    #expect((reply["message"] as? String)?.isEmpty == false)
                    if let id = id as? Int { #expect(reply["id"] as? Int == id) }
                    if let id = id as? String { #expect(reply["id"] as? String == id) }
                    if id == nil { #expect(reply["id"] == nil) }
                }
                let pong = try await ws.ask(#"{"op":"ping","id":"still-open"}"#)
                #expect(pong["op"] as? String == "pong" && pong["id"] as? String == "still-open")
                return true
            }
        }
    }

    @Test func tooManySubscriptions() async throws {
        _ = try await TestServer.with({ $0.limits.maxSubscriptions = 2 }) { server in
            try await WSRawClient.open(server, path: "/ws") { ws in
                try await ws.welcome()
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"a"}"#)["op"] as? String == "subscribed")
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"b"}"#)["op"] as? String == "subscribed")
                let refused = try await ws.ask(#"{"op":"subscribe","channel":"c","id":5}"#)
                #expect(refused["op"] as? String == "error" && refused["code"] as? String == "too-many-subscriptions")
                #expect(refused["id"] as? Int == 5)
                // Subscribing again to a channel already followed is not a new subscription.
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"a"}"#)["op"] as? String == "subscribed")
                // After an unsubscribe there is room again.
                #expect(try await ws.ask(#"{"op":"unsubscribe","channel":"b"}"#)["op"] as? String == "unsubscribed")
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"c"}"#)["op"] as? String == "subscribed")
                return true
            }
        }
    }

    // MARK: close codes

    static func closeCode(_ server: RunningServer, path: String = "/ws", headers: [(String, String)] = [],
                          _ misbehave: @escaping @Sendable (WSRawClient) async throws -> Void) async throws -> (Int?, String) {
        try await WSRawClient.open(server, path: path, headers: headers) { ws in
            #expect(ws.head.status == 101)
            if path == "/ws" { try await ws.welcome() }
            try await misbehave(ws)
            let close = try #require(try await ws.closeFrame(), "no close frame")
            // The server ends TCP once the close is answered.
            try? await ws.sendClose(code: UInt16(close.code ?? 1000))
            #expect(try await ws.waitForEnd())
            return (close.code, close.reason)
        }
    }

    @Test func malformedJSONCloses4400() async throws {
        try await TestServer.with { server in
            let (code, reason) = try await Self.closeCode(server) { try await $0.send(text: "{not json") }
            #expect(code == 4400)
            #expect(reason.contains("malformed"))
            // Not an object with a string op: also malformed.
            let (code2, _) = try await Self.closeCode(server) { try await $0.send(text: #"{"id":1}"#) }
            #expect(code2 == 4400)
            // The server goes on serving others.
            let health = try await HTTP.request("GET", server.http + "/api/health")
            #expect(health.status == 200)
        }
    }

    @Test func binaryFrameOnWSCloses1003() async throws {
        try await TestServer.with { server in
            let (code, reason) = try await Self.closeCode(server) { try await $0.send(.binary, [1, 2, 3]) }
            #expect(code == 1003)
            #expect(reason.contains("binary"))
        }
    }

    @Test func oversizeMessageCloses1009() async throws {
        try await TestServer.with({ $0.limits.maxMessageSize = 1024 }) { server in
            // One frame over the limit.
            let (code, _) = try await Self.closeCode(server) { ws in
                try await ws.send(text: #"{"op":"echo","data":""# + String(repeating: "x", count: 2000) + #""}"#)
            }
            #expect(code == 1009)
            // A message over the limit in fragments.
            let (code2, _) = try await Self.closeCode(server) { ws in
                try await ws.send(.text, Array(#"{"op":"echo","data":""#.utf8) + Array(repeating: UInt8(ascii: "x"), count: 800), fin: false)
                try await ws.send(.continuation, Array(repeating: UInt8(ascii: "x"), count: 800), fin: true)
            }
            #expect(code2 == 1009)
            // At the limit it passes.
            try await WSRawClient.open(server, path: "/ws") { ws in
                try await ws.welcome()
                let payload = String(repeating: "y", count: 1024 - #"{"op":"echo","data":""}"#.utf8.count)
                let reply = try await ws.ask(#"{"op":"echo","data":"\#(payload)"}"#)
                #expect(reply["op"] as? String == "echo")
                return true
            }
        }
    }

    @Test func aLimitUnderOneFrameFloorStillCloses1009() async throws {
        try await TestServer.with({ $0.limits.maxMessageSize = 40 }) { server in
            let (code, reason) = try await Self.closeCode(server) { ws in
                try await ws.send(text: #"{"op":"echo","data":"\#(String(repeating: "x", count: 60))"}"#)
            }
            #expect(code == 1009)
            #expect(reason.contains("too big"))
        }
    }

    @Test func publishRateOverTheLimitCloses4429() async throws {
        try await TestServer.with({ $0.limits.publishRate = 5 }) { server in
            let (code, reason) = try await Self.closeCode(server) { ws in
                for i in 0..<20 { try await ws.send(text: #"{"op":"publish","channel":"news","data":\#(i)}"#) }
            }
            #expect(code == 4429)
            #expect(reason.contains("rate"))
        }
    }

    @Test func publishingNeedsThePublishTokenWhenSet() async throws {
        try await TestServer.with({ $0.publishToken = "s3cret-token" }) { server in
            let (code, _) = try await Self.closeCode(server) { ws in
                // Subscribing needs no token.
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"news"}"#)["op"] as? String == "subscribed")
                try await ws.send(text: #"{"op":"publish","channel":"news","data":1}"#)
            }
            #expect(code == 4401)
            for path in ["/ws?token=s3cret-token", "/ws"] {
                let headers = path == "/ws" ? [("Authorization", "Bearer s3cret-token")] : []
                try await WSRawClient.open(server, path: path, headers: headers) { ws in
                    try await ws.welcome()
                    let reply = try await ws.ask(#"{"op":"publish","channel":"news","data":1,"id":1}"#)
                    #expect(reply["op"] as? String == "published")
                    return true
                }
            }
        }
    }

    @Test func serverPingsAndAnOverduePongCloses4408() async throws {
        try await TestServer.with({ $0.limits.pingInterval = 0.3 }) { server in
            // A client that answers pings stays open across several intervals.
            try await WSRawClient.open(server, path: "/ws") { ws in
                let welcome = try await ws.welcome()
                #expect(welcome["pingIntervalMs"] as? Int == 300)
                let started = ContinuousClock.now
                while started.elapsedMs < 1500 {
                    switch try await ws.next(timeout: 0.2) {
                    case .close(let code, _): Issue.record("closed with \(code.map(String.init) ?? "-")")
                    case .ended: Issue.record("ended")
                    default: continue
                    }
                }
                #expect(ws.pingsSeen >= 3)
                return true
            }
            // One that never answers is closed with 4408 after the next ping.
            let (code, reason) = try await WSRawClient.open(server, path: "/ws") { ws in
                ws.answerPings = false
                try await ws.welcome()
                let started = ContinuousClock.now
                let close = try #require(try await ws.closeFrame(timeout: 3))
                #expect(ws.pingsSeen >= 1)
                #expect(started.elapsedMs >= 450, "closed after \(started.elapsedMs) ms")
                return (close.code, close.reason)
            }
            #expect(code == 4408)
            #expect(reason.contains("pong"))
        }
    }

    @Test func slowConsumerIsClosed1013() async throws {
        try await TestServer.with({
            $0.limits.history.size = 4
            $0.limits.maxQueuedMessages = 8
        }) { server in
            let big = "\"" + String(repeating: "z", count: 60_000) + "\""
            let (code, reason, received) = try await WSRawClient.open(server, path: "/ws") { ws in
                try await ws.welcome()
                #expect(try await ws.ask(#"{"op":"subscribe","channel":"firehose"}"#)["op"] as? String == "subscribed")
                // This client stops reading while far more than socket buffers can hold is published.
                try await WSRawClient.open(server, path: "/ws") { publisher in
                    try await publisher.welcome()
                    for i in 0..<400 {
                        try await publisher.send(text: #"{"op":"publish","channel":"firehose","data":\#(big),"id":\#(i)}"#)
                        _ = try await publisher.json(timeout: 10)
                    }
                    return true
                }
                // Now it reads: what was buffered, then the close.
                var received = 0
                while true {
                    switch try await ws.next(timeout: 10) {
                    case .text: received += 1
                    case .close(let code, let reason): return (code, reason, received)
                    case .ping, .pong: continue
                    case let other: throw WSRawClient.Failure(description: "unexpected \(other) after \(received) messages")
                    }
                }
            }
            #expect(code == 1013)
            #expect(reason.contains("slow consumer"))
            #expect(received < 400)
        }
    }

    @Test func gracefulShutdownCloses1001() async throws {
        let seen = try await TestServer.with(ServerConfiguration.forWSClient) { server in
            // The client outlives the body: the server shuts down while it is connected.
            let client = Task {
                try await WSReal.connect(server.ws + "/ws") { messages, out in
                    _ = try await messages.json()
                    try await out.write(.text(#"{"op":"subscribe","channel":"news"}"#))
                    try await messages.drain()
                }
            }
            let echo = Task {
                try await WSReal.connect(server.ws + "/echo") { messages, out in
                    try await out.write(.text("hello"))
                    _ = try await messages.next()
                    try await messages.drain()
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            return (client, echo)
        }
        let ws = try await seen.0.value
        let echo = try await seen.1.value
        #expect(ws?.closeCode.number == 1001)
        #expect(ws?.reason == "server shutting down")
        #expect(echo?.closeCode.number == 1001)
    }
}

