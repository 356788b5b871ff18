import Diagnosis
import Foundation
import NIOPosix
import Testing
@testable import Probe

/// `/poll` over real HTTP: immediate and held answers, positions that round-trip, several
/// subscriptions, recovery, bounded answers, refusals, and held polls ending early.
@Suite("Poll transport")
struct PollTransportTests {
    struct Answer {
        var status: Int
        var offsets: [String: [Int]] = [:]
        var positions: [String: String] = [:]
        var recovered: [String: Bool] = [:]
        var messages: [[String: Any]] = []
        var error: String?
        var raw: HTTP.Answer

        init(_ r: HTTP.Answer) {
            raw = r
            status = r.status
            let json = r.json ?? [:]
            error = json["error"] as? String
            messages = json["messages"] as? [[String: Any]] ?? []
            for m in messages {
                offsets[m["channel"] as? String ?? "?", default: []].append(m["offset"] as? Int ?? -1)
            }
            positions = json["positions"] as? [String: String] ?? [:]
            recovered = json["recovered"] as? [String: Bool] ?? [:]
        }
    }

    func poll(_ server: RunningServer, _ query: String, timeout: Double = 10) async throws -> Answer {
        Answer(try await HTTP.request("GET", server.http + "/poll?" + query, timeout: timeout))
    }

    @Test func messagesAfterThePositionAnswerAtOnce() async throws {
        try await TestServer.with { server in
            var epoch = ""
            for n in 1...3 { epoch = try await server.publish("news", #"{"n":\#(n)}"#).epoch }
            let started = ContinuousClock.now
            let a = try await poll(server, "sub=news@\(epoch):1&timeout=30")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(a.status == 200)
            #expect(a.raw.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(a.offsets == ["news": [2, 3]])
            #expect(a.positions == ["news": "\(epoch):3"])
            #expect(a.recovered == ["news": true])
            let first = try #require(a.messages.first)
            #expect(first["epoch"] as? String == epoch && (first["data"] as? [String: Any])?["n"] as? Int == 2)
        }
    }

    @Test func positionsRoundTripAndAHeldPollAnswersWithTheNextMessage() async throws {
        try await TestServer.with { server in
            let first = try await poll(server, "sub=job:1&timeout=0")
            let position = try #require(first.positions["job:1"])
            #expect(position.hasSuffix(":0") && first.recovered["job:1"] == true && first.messages.isEmpty)
            let started = ContinuousClock.now
            async let held = poll(server, "sub=job:1@\(position)&timeout=20", timeout: 30)
            #expect(try await server.waitForConnections("poll", 1))
            let published = try await server.publish("job:1", #"{"progress":40}"#)
            let answer = try await held
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(answer.offsets == ["job:1": [1]])
            #expect(answer.positions == ["job:1": "\(published.epoch):1"])
            #expect(answer.raw.header("Connection")?.lowercased() == "close")
            // Passing the positions back: nothing new, nothing repeated.
            let next = try await poll(server, "sub=job:1@\(answer.positions["job:1"]!)&timeout=0.2")
            #expect(next.messages.isEmpty && next.positions == answer.positions)
        }
    }

    @Test func aSubWithoutPositionWaitsForNewMessagesOnly() async throws {
        try await TestServer.with { server in
            let p = try await server.publish("news", "1")
            let started = ContinuousClock.now
            let a = try await poll(server, "sub=news&timeout=0.3")
            #expect(ContinuousClock.now - started >= .milliseconds(250))
            #expect(a.status == 200 && a.messages.isEmpty)
            #expect(a.positions == ["news": "\(p.epoch):1"] && a.recovered == ["news": true])
        }
    }

    @Test func severalSubscriptionsInOnePollInOffsetOrder() async throws {
        try await TestServer.with { server in
            let a = try await server.publish("a", "1")
            for n in 2...4 { try await server.publish("a", "\(n)") }
            let b = try await server.publish("b", "1")
            try await server.publish("b", "2")
            let r = try await poll(server, "sub=a@\(a.epoch):1&sub=b@earliest&sub=c&timeout=5")
            #expect(r.offsets == ["a": [2, 3, 4], "b": [1, 2]])
            #expect(r.positions["a"] == "\(a.epoch):4" && r.positions["b"] == "\(b.epoch):2")
            #expect(r.positions["c"]?.hasSuffix(":0") == true)
            #expect(r.recovered == ["a": true, "b": true, "c": true])
        }
    }

    @Test func positionBeyondHistoryAnswersAtOnceNotRecovered() async throws {
        try await TestServer.with({ $0.limits.history.size = 2 }) { server in
            var epoch = ""
            for n in 1...5 { epoch = try await server.publish("news", "\(n)").epoch }
            let started = ContinuousClock.now
            let r = try await poll(server, "sub=news@\(epoch):1&timeout=30")
            #expect(ContinuousClock.now - started < .seconds(5))
            #expect(r.messages.isEmpty)
            #expect(r.recovered == ["news": false] && r.positions == ["news": "\(epoch):5"])
            // Within history: recovered.
            let within = try await poll(server, "sub=news@\(epoch):3&timeout=5")
            #expect(within.offsets == ["news": [4, 5]] && within.recovered == ["news": true])
        }
    }

    @Test func aRestartedServerIsANewEpochAndSaysNotRecovered() async throws {
        let old = try await TestServer.with { server in try await server.publish("news", "1") }
        try await TestServer.with { server in
            let now = try await server.publish("news", "1")
            let r = try await poll(server, "sub=news@\(old.epoch):\(old.offset)&timeout=30")
            #expect(r.recovered == ["news": false] && r.messages.isEmpty)
            #expect(r.positions == ["news": "\(now.epoch):1"])
        }
    }

    @Test func answersAreBoundedAndResumeAfterWhatFit() async throws {
        try await TestServer.with({ $0.limits.maxQueuedMessages = 5 }) { server in
            for n in 1...12 { try await server.publish("news", "\(n)") }
            var sub = "news@earliest"
            var seen: [Int] = []
            for _ in 0..<3 {
                let r = try await poll(server, "sub=\(sub)&timeout=0")
                #expect(r.messages.count <= 5)
                seen += r.offsets["news"] ?? []
                sub = "news@" + (r.positions["news"] ?? "")
            }
            #expect(seen == Array(1...12))
        }
    }

    @Test(arguments: [
        ("sub=news&timeout=61", "bad-timeout"),
        ("sub=news&timeout=-1", "bad-timeout"),
        ("sub=news&timeout=soon", "bad-timeout"),
        ("timeout=5", "missing-sub"),
        ("sub=news@e1:x", "bad-position"),
        ("sub=n%20ws", "bad-channel"),
        ("sub=a&sub=b&sub=c", "too-many-subscriptions"),
    ])
    func badRequestsAre400JSON(query: String, code: String) async throws {
        try await TestServer.with({ $0.limits.maxSubscriptions = 2 }) { server in
            let r = try await poll(server, query)
            #expect(r.status == 400)
            #expect(r.error == code)
            #expect((r.raw.json?["message"] as? String)?.isEmpty == false)
            #expect(try await poll(server, "sub=news&timeout=0").status == 200)
        }
    }

    @Test func simulatedBlockAndDisallowedOriginsAre403() async throws {
        try await TestServer.with({ $0.faults = [.blockPoll] }) { server in
            let r = try await poll(server, "sub=news&timeout=0")
            #expect(r.status == 403 && r.error == "blocked")
            #expect((r.raw.json?["message"] as? String)?.contains("block-poll") == true)
        }
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let refused = Answer(try await HTTP.request("GET", server.http + "/poll?sub=news&timeout=0",
                                                        headers: [("Origin", "https://evil.example")]))
            #expect(refused.status == 403 && refused.error == "origin-not-allowed")
            let allowed = try await HTTP.request("GET", server.http + "/poll?sub=news&timeout=0",
                                                 headers: [("Origin", "https://app.example")])
            #expect(allowed.status == 200)
        }
    }

    @Test func aClientLeavingEndsItsHeldPoll() async throws {
        try await TestServer.with { server in
            let target = try Target.parse(server.http + "/poll?sub=news&timeout=60")
            let dialer = Dialer(target: target, timeout: 10, proxy: nil, group: MultiThreadedEventLoopGroup.singleton, tls: nil)
            let (_, held) = await dialer.withConnection { connection -> Bool in
                try await connection.write("GET \(target.path) HTTP/1.1\r\nHost: \(target.hostHeader)\r\n\r\n")
                return try await server.waitForConnections("poll", 1)
            }
            #expect(held == true)
            #expect(try await server.waitForConnections("poll", 0, timeout: 5))
        }
    }

    @Test func gracefulShutdownAnswersAHeldPollPromptly() async throws {
        try await TestServer.withShutdown { server, shutdown in
            let started = ContinuousClock.now
            async let held = HTTP.request("GET", server.http + "/poll?sub=news&timeout=60", timeout: 30)
            #expect(try await server.waitForConnections("poll", 1))
            await shutdown()
            let r = try await held
            #expect(ContinuousClock.now - started < .seconds(10))
            #expect(r.status == 200)
            #expect((r.json?["messages"] as? [Any])?.isEmpty == true)
            #expect((r.json?["positions"] as? [String: String])?["news"] != nil)
        }
    }
}
