import Foundation
import Testing
@testable import Probe
import RealtimeServer

/// `POST /api/telemetry` and `GET /api/stats` over real HTTP.
@Suite("Telemetry over HTTP")
struct TelemetryRoutesTests {
    static let admin = "stats-s3cret"
    static let bearer = [("Authorization", "Bearer \(admin)")]

    static func event(_ transport: String, _ outcome: String, extra: String = "") -> String {
        #"{"at":"2026-11-21T10:00:00.000Z","transport":"\#(transport)","outcome":"\#(outcome)"\#(extra)}"#
    }

    @Test func eventsAreAcceptedAndAggregated() async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let events = [
                Self.event("websocket", "failed", extra: #","cause":"abnormal-closure","closeCode":1006"#),
                Self.event("websocket", "connected", extra: #","connectMs":120"#),
                Self.event("websocket", "connected", extra: #","connectMs":80"#),
                Self.event("websocket", "connected", extra: #","connectMs":100"#),
                Self.event("sse", "fallback", extra: #","cause":"abnormal-closure""#),
            ]
            let r = try await HTTP.request("POST", server.http + "/api/telemetry", body: #"{"events":[\#(events.joined(separator: ","))]}"#)
            #expect(r.status == 202)
            #expect(r.json?["accepted"] as? Int == 5)

            let stats = try await HTTP.request("GET", server.http + "/api/stats", headers: Self.bearer)
            #expect(stats.status == 200)
            let o = try #require(stats.json)
            #expect((o["connections"] as? [String: Int])?["websocket"] == 0)
            let t = try #require(o["telemetry"] as? [String: Any])
            #expect(t["events"] as? Int == 5)
            let ws = try #require((t["transports"] as? [String: [String: Any]])?["websocket"])
            #expect(ws["connected"] as? Int == 3 && ws["failed"] as? Int == 1)
            #expect(ws["successRate"] as? Double == 0.75)
            let connect = try #require(ws["connectMs"] as? [String: Any])
            #expect(connect["p50"] as? Int == 100 && connect["p99"] as? Int == 120 && connect["count"] as? Int == 3)
            #expect((t["fallbacks"] as? [String: Int])?["sse"] == 1)
            let causes = try #require(t["causes"] as? [[String: Any]])
            #expect(causes.first?["cause"] as? String == "abnormal-closure" && causes.first?["count"] as? Int == 2)
            #expect(((t["closeCodes"] as? [[String: Any]])?.first)?["code"] as? Int == 1006)
        }
    }

    @Test(arguments: [
        (#"{"events":[{"transport":"pigeon","outcome":"failed"}]}"#, "events[0].transport"),
        (#"{"events":[{"transport":"sse","outcome":"connected"},{"transport":"sse","outcome":"meh"}]}"#, "events[1].outcome"),
        (#"{"events":[{"transport":"sse","outcome":"closed","closeCode":"1006"}]}"#, "events[0].closeCode"),
        (#"{"nothing":[]}"#, "events"),
    ])
    func invalidEventsAre400NamingTheField(body: String, field: String) async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let r = try await HTTP.request("POST", server.http + "/api/telemetry", body: body)
            #expect(r.status == 400)
            #expect(r.json?["error"] as? String == "invalid-event")
            #expect((r.json?["message"] as? String)?.hasPrefix(field) == true)
            // All or nothing: a batch with a bad event adds nothing.
            let t = try await HTTP.request("GET", server.http + "/api/stats", headers: Self.bearer).json?["telemetry"] as? [String: Any]
            #expect(t?["events"] as? Int == 0)
        }
    }

    @Test func limitsAndMalformedBodiesAreRefused() async throws {
        try await TestServer.with({ $0.limits.telemetryMaxBytes = 2048; $0.limits.telemetryMaxEvents = 5 }) { server in
            let url = server.http + "/api/telemetry"
            let six = #"{"events":[\#(Array(repeating: Self.event("sse", "connected"), count: 6).joined(separator: ","))]}"#
            let many = try await HTTP.request("POST", url, body: six)
            #expect(many.status == 400)
            #expect(many.json?["error"] as? String == "too-many-events")
            let big = #"{"events":[],"pad":""# + String(repeating: "x", count: 3000) + #""}"#
            let tooBig = try await HTTP.request("POST", url, body: big)
            #expect(tooBig.status == 413)
            #expect(tooBig.json?["error"] as? String == "too-large")
            let malformed = try await HTTP.request("POST", url, body: "{events:")
            #expect(malformed.status == 400)
            #expect(malformed.json?["error"] as? String == "malformed-json")
            let fine = try await HTTP.request("POST", url, body: #"{"events":[]}"#)
            #expect(fine.status == 202 && fine.json?["accepted"] as? Int == 0)
        }
    }

    @Test func statsArePrivate() async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("GET", server.http + "/api/stats")
            #expect(r.status == 403)
            #expect(r.json?["error"] as? String == "admin-token-not-set")
        }
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let missing = try await HTTP.request("GET", server.http + "/api/stats")
            let wrong = try await HTTP.request("GET", server.http + "/api/stats?token=nope")
            let right = try await HTTP.request("GET", server.http + "/api/stats?token=\(Self.admin)")
            #expect(missing.status == 401 && wrong.status == 401)
            #expect(right.status == 200)
        }
    }

    @Test func telemetryChecksTheOrigin() async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("POST", server.http + "/api/telemetry", body: #"{"events":[]}"#, headers: [("Origin", "https://evil.example")])
            #expect(r.status == 403)
        }
    }
}
