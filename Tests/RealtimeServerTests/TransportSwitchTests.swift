import Foundation
import NIOConcurrencyHelpers
import RealtimeServer
import Testing

/// The headline promise: a consumer can change transport in the middle of a stream,
/// resuming each time from the last position it was given, and sees every message
/// exactly once, in order.
///
/// The publisher and the consumer run concurrently, and the publisher always runs ahead
/// of each switch: when the consumer leaves a transport, messages it has not read yet are
/// already published (they must come through the next transport's replay), and more are
/// published once it is on the next one (they must come live).
@Suite("Switching transport mid-stream")
struct TransportSwitchTests {
    static let total = 300

    /// What the consumer received, in arrival order. No client-side deduplication: the
    /// server alone must make it exactly once.
    final class Received: Sendable {
        private let box = NIOLockedValueBox<[(offset: Int, n: Int)]>([])
        func add(_ message: [String: Any]) {
            let offset = message["offset"] as? Int ?? -1
            let n = (message["data"] as? [String: Any])?["n"] as? Int ?? -2
            box.withLockedValue { $0.append((offset, n)) }
        }
        var count: Int { box.withLockedValue { $0.count } }
        var offsets: [Int] { box.withLockedValue { $0.map(\.offset) } }
        var payloadsMatch: Bool { box.withLockedValue { $0.allSatisfy { $0.offset == $0.n } } }
        var last: Int { box.withLockedValue { $0.last?.offset ?? 0 } }
    }

    /// Publishes `{"n":N}` for N in 1...total: after each signal from the consumer (it
    /// subscribed, then it left a transport), up to the next stop.
    static func publish(_ server: RunningServer, _ channel: String, stops: [Int], signals: AsyncStream<Void>) async throws {
        var signal = signals.makeAsyncIterator()
        var n = 0
        for stop in stops + [total] {
            _ = await signal.next()
            while n < stop {
                n += 1
                try await server.publish(channel, #"{"n":\#(n)}"#)
            }
        }
    }

    /// Long-polls from `position`, passing the answer's positions back each time, until
    /// `received` has `count` messages; returns the last position.
    static func poll(_ server: RunningServer, _ channel: String, from position: String, until count: Int,
                     into received: Received) async throws -> String {
        var position = position
        while received.count < count {
            let answer = try await HTTP.request("GET", server.http + "/poll?sub=\(channel)@\(position)&timeout=10", timeout: 20)
            let json = try #require(answer.json, "poll answered \(answer.status) \(answer.body)")
            #expect((json["recovered"] as? [String: Bool])?[channel] == true)
            for m in json["messages"] as? [[String: Any]] ?? [] { received.add(m) }
            position = try #require((json["positions"] as? [String: String])?[channel])
        }
        return position
    }

    @Test(.timeLimit(.minutes(2)))
    func websocketThenSSEThenPollThenSSEAgainLosesAndRepeatsNothing() async throws {
        try await TestServer.with({
            $0.limits.publishRate = 100_000
            ServerConfiguration.forWSClient(&$0)
        }) { server in
            let received = Received()
            let channel = "switch"
            let epochBox = NIOLockedValueBox<String?>(nil)
            let (signals, signal) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.publish(server, channel, stops: [120, 220, 270], signals: signals) }
                defer { signal.finish() }

                // 1. WebSocket from the channel's start, until 80 messages (of 120 published).
                try await WSReal.connect(server.ws + "/ws") { messages, out in
                    _ = try await messages.json()  // welcome
                    try await out.write(.text(#"{"op":"subscribe","channel":"\#(channel)","id":1}"#))
                    let subscribed = try await messages.json()
                    #expect(subscribed["op"] as? String == "subscribed" && subscribed["offset"] as? Int == 0)
                    epochBox.withLockedValue { $0 = subscribed["epoch"] as? String }
                    signal.yield()
                    while received.count < 80 {
                        let m = try await messages.json()
                        if m["op"] as? String == "message" { received.add(m) }
                    }
                }
                signal.yield()
                let epoch = try #require(epochBox.withLockedValue { $0 })

                // 2. Server-Sent Events after the last offset delivered, until 180 (of 220).
                try await SSEClient.connect(server.http + "/sse?sub=\(channel)@\(epoch):\(received.last)") { sse in
                    let subscribed = try #require(try await sse.nextEvent())
                    #expect(subscribed.event == "subscribed" && subscribed.json?["recovered"] as? Bool == true)
                    while received.count < 180, let e = try await sse.nextEvent() {
                        let json = try #require(e.json)
                        #expect(e.id == "\(channel)@\(epoch):\(json["offset"] as? Int ?? -1)")
                        received.add(json)
                    }
                }
                signal.yield()

                // 3. Long-polling, until 260 (of 270).
                let position = try await Self.poll(server, channel, from: "\(epoch):\(received.last)", until: 260, into: received)
                signal.yield()

                // 4. Back to SSE, as an EventSource reconnecting by itself: Last-Event-ID.
                try await SSEClient.connect(server.http + "/sse?sub=\(channel)",
                                            headers: [("Last-Event-ID", "\(channel)@\(position)")]) { sse in
                    #expect(try await sse.nextEvent()?.json?["recovered"] as? Bool == true)
                    while received.count < Self.total, let e = try await sse.nextEvent() {
                        received.add(try #require(e.json))
                    }
                }
                try await group.waitForAll()
            }
            #expect(received.offsets == Array(1...Self.total))
            #expect(received.payloadsMatch)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func sseThenPollThenSSELosesAndRepeatsNothing() async throws {
        try await TestServer.with({ $0.limits.publishRate = 100_000 }) { server in
            let received = Received()
            let channel = "job:switch"
            let epochBox = NIOLockedValueBox<String?>(nil)
            let (signals, signal) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.publish(server, channel, stops: [130, 230], signals: signals) }
                defer { signal.finish() }

                try await SSEClient.connect(server.http + "/sse?sub=\(channel)") { sse in
                    let subscribed = try #require(try await sse.nextEvent()?.json)
                    epochBox.withLockedValue { $0 = subscribed["epoch"] as? String }
                    signal.yield()
                    while received.count < 100, let e = try await sse.nextEvent() { received.add(try #require(e.json)) }
                }
                signal.yield()
                let epoch = try #require(epochBox.withLockedValue { $0 })
                let position = try await Self.poll(server, channel, from: "\(epoch):\(received.last)", until: 200, into: received)
                signal.yield()
                try await SSEClient.connect(server.http + "/sse?sub=\(channel)@\(position)") { sse in
                    _ = try await sse.nextEvent()
                    while received.count < Self.total, let e = try await sse.nextEvent() { received.add(try #require(e.json)) }
                }
                try await group.waitForAll()
            }
            #expect(received.offsets == Array(1...Self.total))
            #expect(received.payloadsMatch)
        }
    }
}
