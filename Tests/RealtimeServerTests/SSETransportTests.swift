import Foundation
import Testing
@testable import Probe

/// `/sse` over real HTTP: format, headers, replay and recovery, pings, refusals, and the
/// stream's end (client leaves, server shuts down, client too slow).
@Suite("SSE transport")
struct SSETransportTests {
    @Test func streamHasTheSpecsHeadersFormatAndPositions() async throws {
        try await TestServer.with { server in
            let first = try await server.publish("news", #"{"n":1}"#)
            try await server.publish("news", #"{"n":2}"#)
            try await SSEClient.connect(server.http + "/sse?sub=news@earliest") { sse in
                #expect(sse.status == 200)
                #expect(sse.header("Content-Type")?.hasPrefix("text/event-stream") == true)
                #expect(sse.header("Cache-Control") == "no-cache")
                #expect(sse.header("X-Accel-Buffering") == "no")
                let retry = try await sse.next()
                #expect(retry?.retry == 2000)
                let subscribed = try #require(try await sse.nextEvent())
                #expect(subscribed.event == "subscribed")
                let s = try #require(subscribed.json)
                #expect(s["channel"] as? String == "news" && s["epoch"] as? String == first.epoch)
                #expect(s["offset"] as? Int == 2 && s["recovered"] as? Bool == true)
                for n in 1...2 {
                    let m = try #require(try await sse.nextEvent())
                    #expect(m.event == "message")
                    #expect(m.id == "news@\(first.epoch):\(n)")
                    let body = try #require(m.json)
                    #expect(body["channel"] as? String == "news" && body["epoch"] as? String == first.epoch)
                    #expect(body["offset"] as? Int == n && (body["data"] as? [String: Any])?["n"] as? Int == n)
                }
                // Live messages follow the replay.
                try await server.publish("news", #"{"n":3}"#)
                let live = try #require(try await sse.nextEvent())
                #expect(live.id == "news@\(first.epoch):3" && live.offset == 3)
            }
        }
    }

    @Test func severalSubscriptionsEachSaySubscribedThenReplay() async throws {
        try await TestServer.with { server in
            let a = try await server.publish("a", "1")
            try await server.publish("a", "2")
            let b = try await server.publish("b", "1")
            try await SSEClient.connect(server.http + "/sse?sub=a@\(a.epoch):1&sub=b@earliest&sub=c") { sse in
                var events: [SSEEvent] = []
                for _ in 0..<5 { events.append(try #require(try await sse.nextEvent())) }
                #expect(events.map { $0.event ?? "" } == ["subscribed", "message", "subscribed", "message", "subscribed"])
                #expect(events[1].id == "a@\(a.epoch):2")
                #expect(events[3].id == "b@\(b.epoch):1")
                #expect(events[4].json?["channel"] as? String == "c" && events[4].json?["offset"] as? Int == 0)
                try await server.publish("c", #""hello""#)
                let live = try #require(try await sse.nextEvent())
                #expect(live.json?["channel"] as? String == "c" && live.json?["data"] as? String == "hello")
            }
        }
    }

    @Test func lastEventIDResumesASingleSubscription() async throws {
        try await TestServer.with { server in
            var last = ""
            for n in 1...5 { last = try await server.publish("job:7", "\(n)").epoch }
            let epoch = last
            try await SSEClient.connect(server.http + "/sse?sub=job:7", headers: [("Last-Event-ID", "job:7@\(epoch):3")]) { sse in
                let subscribed = try #require(try await sse.nextEvent())
                #expect(subscribed.json?["recovered"] as? Bool == true)
                let replay = [try await sse.nextEvent(), try await sse.nextEvent()]
                #expect(replay.map { $0?.id } == ["job:7@\(epoch):4", "job:7@\(epoch):5"])
            }
        }
    }

    @Test func positionBeyondHistoryIsNotRecoveredAndOnlyLiveFollows() async throws {
        try await TestServer.with({ $0.limits.history.size = 3 }) { server in
            var last = ""
            for n in 1...6 { last = try await server.publish("news", "\(n)").epoch }
            let epoch = last
            // Retained: 4, 5, 6. Covered: 3...6. 1 is beyond history.
            try await SSEClient.connect(server.http + "/sse?sub=news@\(epoch):1") { sse in
                let s = try #require(try await sse.nextEvent()?.json)
                #expect(s["recovered"] as? Bool == false && s["offset"] as? Int == 6)
                try await server.publish("news", "7")
                #expect(try await sse.nextEvent()?.offset == 7)
            }
            // Retained now: 5, 6, 7. The edge of what is covered is earliest - 1 = 4.
            try await SSEClient.connect(server.http + "/sse?sub=news@\(epoch):4") { sse in
                let s = try #require(try await sse.nextEvent()?.json)
                #expect(s["recovered"] as? Bool == true)
                var offsets: [Int] = []
                for _ in 0..<3 { offsets.append(try #require(try await sse.nextEvent()?.offset)) }
                #expect(offsets == [5, 6, 7])
            }
            try await SSEClient.connect(server.http + "/sse?sub=news@\(epoch):3") { sse throws in
                #expect(try await sse.nextEvent()?.json?["recovered"] as? Bool == false)
            }
        }
    }

    @Test func aRestartedServerIsANewEpochAndSaysNotRecovered() async throws {
        let old = try await TestServer.with { server in
            try await server.publish("news", "1")
            return try await server.publish("news", "2")
        }
        try await TestServer.with { server in
            try await server.publish("news", "1")
            try await SSEClient.connect(server.http + "/sse?sub=news@\(old.epoch):\(old.offset)") { sse in
                let s = try #require(try await sse.nextEvent()?.json)
                #expect(s["recovered"] as? Bool == false)
                #expect(s["epoch"] as? String != old.epoch && s["offset"] as? Int == 1)
                let (epoch, _) = try await server.publish("news", "2")
                let live = try #require(try await sse.nextEvent())
                #expect(live.id == "news@\(epoch):2")
            }
        }
    }

    @Test func pingCommentsComeEveryPingInterval() async throws {
        try await TestServer.with({ $0.limits.pingInterval = 0.2 }) { server in
            try await SSEClient.connect(server.http + "/sse?sub=news") { sse in
                var pings = 0
                let started = ContinuousClock.now
                while pings < 2, let e = try await sse.next(timeout: 5) {
                    if e.isComment { #expect(e.comment == "ping"); pings += 1 }
                }
                #expect(pings == 2)
                #expect(ContinuousClock.now - started >= .milliseconds(350))
            }
        }
    }

    @Test(arguments: [
        ("/sse", [(String, String)](), "missing-sub"),
        ("/sse?sub=bad%20name", [], "bad-channel"),
        ("/sse?sub=news@yesterday", [], "bad-position"),
        ("/sse?sub=news&sub=news", [], "duplicate-sub"),
        ("/sse?sub=a&sub=b&sub=c", [], "too-many-subscriptions"),
        ("/sse?sub=news", [("Last-Event-ID", "other@e1:3")], "bad-last-event-id"),
    ])
    func badRequestsAre400JSONAndTheServerKeepsServing(path: String, headers: [(String, String)], code: String) async throws {
        try await TestServer.with({ $0.limits.maxSubscriptions = 2 }) { server in
            let r = try await HTTP.request("GET", server.http + path, headers: headers)
            #expect(r.status == 400)
            #expect(r.json?["error"] as? String == code)
            #expect((r.json?["message"] as? String)?.isEmpty == false)
            try await SSEClient.connect(server.http + "/sse?sub=news") { sse throws in
                #expect(sse.status == 200)
                #expect(try await sse.nextEvent()?.event == "subscribed")
            }
        }
    }

    @Test func disallowedOriginIs403() async throws {
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let refused = try await HTTP.request("GET", server.http + "/sse?sub=news", headers: [("Origin", "https://evil.example")])
            #expect(refused.status == 403 && refused.json?["error"] as? String == "origin-not-allowed")
            try await SSEClient.connect(server.http + "/sse?sub=news", headers: [("Origin", "https://app.example")]) { sse in
                #expect(sse.status == 200)
            }
        }
    }

    @Test func simulatedBlockAnswers403() async throws {
        try await TestServer.with({ $0.faults = [.blockSSE] }) { server in
            let r = try await HTTP.request("GET", server.http + "/sse?sub=news")
            #expect(r.status == 403)
            #expect(r.json?["error"] as? String == "blocked")
            #expect((r.json?["message"] as? String)?.contains("block-sse") == true)
            // Only /sse is blocked.
            #expect(try await HTTP.request("GET", server.http + "/poll?sub=news&timeout=0").status == 200)
        }
    }

    @Test func beyondMaxConnectionsIs503WithRetryAfter() async throws {
        try await TestServer.with({ $0.limits.maxConnections = 1 }) { server in
            try await SSEClient.connect(server.http + "/sse?sub=news") { sse in
                #expect(try await sse.nextEvent()?.event == "subscribed")
                let r = try await HTTP.request("GET", server.http + "/sse?sub=news")
                #expect(r.status == 503)
                #expect(r.header("Retry-After") != nil)
                #expect(r.json?["error"] as? String == "over-capacity")
            }
            #expect(try await server.waitForConnections("sse", 0))
            try await SSEClient.connect(server.http + "/sse?sub=news") { sse in #expect(sse.status == 200) }
        }
    }

    @Test func clientLeavingReleasesTheStream() async throws {
        try await TestServer.with { server in
            try await SSEClient.connect(server.http + "/sse?sub=news&sub=other") { sse throws in
                #expect(try await sse.nextEvent()?.event == "subscribed")
                #expect(try await server.connections("sse") == 1)
            }
            // Noticed without any write to the gone client.
            #expect(try await server.waitForConnections("sse", 0, timeout: 5))
            // Publishing afterwards finds no stale subscriber to feed.
            try await server.publish("news", "1")
            #expect(try await server.connections("sse") == 0)
        }
    }

    @Test func gracefulShutdownEndsTheStreamPromptly() async throws {
        try await TestServer.withShutdown { server, shutdown in
            try await SSEClient.connect(server.http + "/sse?sub=news") { sse in
                #expect(try await sse.nextEvent()?.event == "subscribed")
                let started = ContinuousClock.now
                await shutdown()
                let rest = try await sse.readToEnd(timeout: 5)
                #expect(rest.filter { !$0.isComment }.isEmpty)
                #expect(sse.ended)
                #expect(ContinuousClock.now - started < .seconds(5))
            }
        }
    }

    @Test func aClientTooSlowIsCutWithAFinalErrorEvent() async throws {
        try await TestServer.with({
            $0.limits.history.size = 1  // mailbox: 65 messages
            $0.limits.maxQueuedMessages = 1
            $0.limits.publishRate = 100_000
        }) { server in
            let payload = "\"" + String(repeating: "x", count: 60_000) + "\""
            try await SSEClient.connect(server.http + "/sse?sub=flood") { sse in
                #expect(try await sse.nextEvent()?.event == "subscribed")
                // This client reads nothing while ~24 MB are published: the server's writes
                // block, its mailbox fills, and it gives up on this client.
                for _ in 0..<400 { try await server.publish("flood", payload) }
                let events = try await sse.readToEnd(timeout: 20)
                let messages = events.filter { $0.event == "message" }
                #expect(messages.count < 400)
                #expect(messages.map { $0.offset ?? 0 } == Array(1...messages.count))
                let last = try #require(events.last)
                #expect(last.event == "error")
                #expect(last.json?["error"] as? String == "slow-consumer")
            }
            #expect(try await server.waitForConnections("sse", 0))
        }
    }

    @Test func aClientThatStopsReadingIsCutAfterTheStallTimeout() async throws {
        try await TestServer.with({
            $0.limits.history.size = 1
            $0.limits.maxQueuedMessages = 1
            $0.limits.publishRate = 100_000
            $0.limits.pingInterval = 0.5  // a write blocked 2 ping intervals (1 s) ends the stream
        }) { server in
            let payload = "\"" + String(repeating: "y", count: 60_000) + "\""
            try await SSEClient.connect(server.http + "/sse?sub=flood") { sse throws in
                #expect(try await sse.nextEvent()?.event == "subscribed")
                // Never read again: the server must give up on its own and free the slot.
                for _ in 0..<400 { try await server.publish("flood", payload) }
                #expect(try await server.waitForConnections("sse", 0, timeout: 15))
            }
        }
    }
}
