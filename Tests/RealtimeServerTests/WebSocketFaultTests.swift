import Diagnosis
import Foundation
import RealtimeServer
import Testing
@testable import Probe

/// Each WebSocket `--simulate` fault does what it says, seen by a raw client; and
/// `wsdoctor diagnose` (the real prober) names the cause each one stands for.
@Suite("WebSocket --simulate faults", .timeLimit(.minutes(3)))
struct WebSocketFaultTests {
    @Test func stripUpgradeAnswers400AsAServerThatNeverSawTheHeaders() async throws {
        try await TestServer.with({ $0.faults = [.stripUpgrade] }) { server in
            let nonce = HandshakeLogTests.nonce()
            let (status, type, body) = try await WSRawClient.open(server, path: "/ws?probe=\(nonce)") { ws in
                (ws.head.status, ws.head.header("Content-Type"), await ws.body())
            }
            #expect(status == 400)
            #expect(type?.hasPrefix("text/plain") == true)
            #expect(body.contains("'upgrade' token not found"))
            // A plain GET gets the same answer: the server cannot tell them apart.
            let plain = try await HTTP.request("GET", server.http + "/ws")
            #expect(plain.status == 400 && plain.body == body)
            // The server's log says the headers never arrived.
            let a = try #require(try await HandshakeLogTests.log(server, nonce).first)
            #expect(a["upgrade"] is NSNull && a["connection"] is NSNull)
            #expect(a["outcome"] as? String == "rejected" && a["status"] as? Int == 400)
        }
    }

    @Test func swallowUpgradeAnswers200WithAPage() async throws {
        try await TestServer.with({ $0.faults = [.swallowUpgrade] }) { server in
            let (status, type, body) = try await WSRawClient.open(server, path: "/echo") { ws in
                (ws.head.status, ws.head.header("Content-Type"), await ws.body())
            }
            #expect(status == 200)
            #expect(type?.hasPrefix("text/html") == true)
            #expect(body.contains("<html"))
        }
    }

    @Test func dropAfterUpgradeClosesTCPWithoutACloseFrame() async throws {
        try await TestServer.with({ $0.faults = [.dropAfterUpgrade] }) { server in
            let (status, event) = try await WSRawClient.open(server, path: "/ws") { ws in
                (ws.head.status, try await ws.next(timeout: 3))
            }
            #expect(status == 101)
            #expect(event == .ended)
        }
    }

    @Test func idleCutEndsASilentConnectionWithoutACloseFrame() async throws {
        try await TestServer.with({ $0.faults = [.idleCut(1)] }) { server in
            // Silent: cut after about a second, TCP only.
            try await WSRawClient.open(server, path: "/echo") { ws in
                let started = ContinuousClock.now
                var events: [WSRawClient.Event] = []
                while true {
                    let e = try await ws.next(timeout: 4)
                    events.append(e)
                    if e == .ended || e == .timeout { break }
                }
                #expect(events == [.ended], "no ping, no close frame: \(events)")
                #expect(started.elapsedMs >= 900 && started.elapsedMs < 3000, "cut after \(started.elapsedMs) ms")
                return true
            }
            // Traffic keeps it open.
            try await WSRawClient.open(server, path: "/echo") { ws in
                for i in 0..<6 {
                    try await Task.sleep(for: .milliseconds(400))
                    try await ws.send(text: "keepalive \(i)")
                    #expect(try await ws.next() == .text("keepalive \(i)"))
                }
                return true
            }
        }
    }

    @Test func noPongLeavesClientPingsUnanswered() async throws {
        _ = try await TestServer.with({ $0.faults = [.noPong] }) { server in
            try await WSRawClient.open(server, path: "/echo") { ws in
                try await ws.send(.ping, Array("are you there".utf8))
                #expect(try await ws.next(timeout: 1.5) == .timeout)
                // The connection itself works.
                try await ws.send(text: "still here")
                #expect(try await ws.next() == .text("still here"))
                return true
            }
        }
    }

    @Test func slowHandshakeDelaysTheAnswer() async throws {
        try await TestServer.with({ $0.faults = [.slowHandshake(1)] }) { server in
            let (status, seconds) = try await WSRawClient.open(server, path: "/ws") { ($0.head.status, $0.handshakeSeconds) }
            #expect(status == 101)
            #expect(seconds >= 0.95, "answered after \(seconds) s")
        }
    }

    @Test func rejectOriginRefusesEveryCrossOriginUpgrade() async throws {
        try await TestServer.with({
            $0.faults = [.rejectOrigin]
            $0.allowedOrigins = ["https://app.example"]
        }) { server in
            let refused = try await WSRawClient.open(server, path: "/ws", origin: "https://app.example") { $0.head.status }
            #expect(refused == 403)
            let none = try await WSRawClient.open(server, path: "/ws") { $0.head.status }
            #expect(none == 101)
        }
    }

    @Test func latencyDelaysEveryFrameTheServerSends() async throws {
        _ = try await TestServer.with({ $0.faults = [.latency(0.3)] }) { server in
            try await WSRawClient.open(server, path: "/echo") { ws in
                let sent = ContinuousClock.now
                try await ws.send(text: "slow")
                #expect(try await ws.next() == .text("slow"))
                #expect(sent.elapsedMs >= 290, "echo after \(sent.elapsedMs) ms")
                return true
            }
        }
    }

    // MARK: diagnose names each fault

    static func diagnose(_ configure: (inout ServerConfiguration) -> Void, path: String = "/ws",
                         _ options: @escaping @Sendable (inout ProbeOptions) -> Void = { _ in }) async throws -> Report {
        try await TestServer.with(configure) { server in
            var o = ProbeOptions(url: server.ws + path)
            o.timeout = 3
            options(&o)
            return await Prober(options: o).report()
        }
    }

    @Test(arguments: ["/ws", "/echo"])
    func diagnoseCallsAHealthyServerHealthy(path: String) async throws {
        let report = try await Self.diagnose({ _ in }, path: path)
        #expect(report.cause.id == "healthy", "\(report.cause.id): \(report.cause.summary)")
        #expect(report.outcome != .failed)
        let exchange = report.stages.first { $0.name == "exchange" }
        #expect(exchange?.status == .passed, "\(exchange?.summary ?? "no exchange")")
    }

    @Test func diagnoseNamesStripUpgrade() async throws {
        let report = try await Self.diagnose({ $0.faults = [.stripUpgrade] })
        #expect(report.cause.id == "upgrade-headers-stripped", "\(report.cause.id): \(report.cause.summary)")
    }

    @Test func diagnoseNamesSwallowUpgrade() async throws {
        let report = try await Self.diagnose({ $0.faults = [.swallowUpgrade] })
        #expect(report.cause.id == "upgrade-ignored", "\(report.cause.id): \(report.cause.summary)")
    }

    @Test func diagnoseNamesDropAfterUpgrade() async throws {
        let report = try await Self.diagnose({ $0.faults = [.dropAfterUpgrade] })
        #expect(report.cause.id == "abnormal-closure", "\(report.cause.id): \(report.cause.summary)")
    }

    @Test func diagnoseNamesIdleCut() async throws {
        let report = try await Self.diagnose({ $0.faults = [.idleCut(1.5)] }, path: "/echo") { $0.idle = 4 }
        #expect(report.cause.id == "idle-timeout", "\(report.cause.id): \(report.cause.summary)")
    }

    @Test func diagnoseNamesNoPong() async throws {
        let report = try await Self.diagnose({ $0.faults = [.noPong] }) { $0.timeout = 1.5 }
        #expect(report.cause.id == "ping-unanswered", "\(report.cause.id): \(report.cause.summary)")
    }

    @Test func diagnoseNamesRejectOrigin() async throws {
        let report = try await Self.diagnose({ $0.faults = [.rejectOrigin] }) { $0.origin = "https://app.example" }
        #expect(report.cause.id == "origin-rejected", "\(report.cause.id): \(report.cause.summary)")
    }
}
