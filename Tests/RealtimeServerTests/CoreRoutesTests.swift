import Foundation
import Testing
@testable import Probe

/// Health, discovery and publish, over real HTTP.
@Suite("Core routes")
struct CoreRoutesTests {
    @Test func healthAndDiscoveryAnswerAsTheSpecSays() async throws {
        try await TestServer.with { server in
            let health = try await HTTP.request("GET", server.http + "/api/health")
            #expect(health.status == 200)
            let h = try #require(health.json)
            #expect(h["status"] as? String == "ok")
            #expect((h["connections"] as? [String: Any])?["websocket"] as? Int == 0)
            let discovery = try #require(try await HTTP.request("GET", server.http + "/api/realtime").json)
            #expect(discovery["protocol"] as? String == "wsdoctor.realtime/1")
            #expect((discovery["transports"] as? [String: String])?["sse"] == "/sse")
            #expect(discovery["pingIntervalMs"] as? Int == 20000)
        }
    }

    @Test func publishGivesIncreasingOffsetsInOneEpoch() async throws {
        try await TestServer.with { server in
            let a = try #require(try await HTTP.request("POST", server.http + "/api/channels/news/publish", body: #"{"n":1}"#).json)
            let b = try #require(try await HTTP.request("POST", server.http + "/api/channels/news/publish", body: #"{"n":2}"#).json)
            #expect(a["offset"] as? Int == 1 && b["offset"] as? Int == 2)
            #expect(a["epoch"] as? String == b["epoch"] as? String)
        }
    }

    @Test(arguments: [
        ("/api/channels/bad%20name/publish", "1", 400, "bad-channel"),
        ("/api/channels/news/publish", "{not json", 400, "malformed-json"),
    ])
    func publishRefusals(path: String, body: String, status: Int, error: String) async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("POST", server.http + path, body: body)
            #expect(r.status == status)
            #expect(r.json?["error"] as? String == error)
            #expect((r.json?["message"] as? String)?.isEmpty == false)
        }
    }

    @Test func oversizeMessageIs413() async throws {
        try await TestServer.with({ $0.limits.maxMessageSize = 32 }) { server in
            let r = try await HTTP.request("POST", server.http + "/api/channels/news/publish", body: "\"" + String(repeating: "x", count: 64) + "\"")
            #expect(r.status == 413)
        }
    }

    @Test func publishTokenIsRequiredWhenSet() async throws {
        try await TestServer.with({ $0.publishToken = "s3cret-token" }) { server in
            let url = server.http + "/api/channels/news/publish"
            let missing = try await HTTP.request("POST", url, body: "1")
            let wrong = try await HTTP.request("POST", url, body: "1", headers: [("Authorization", "Bearer wrong-token")])
            let bearer = try await HTTP.request("POST", url, body: "1", headers: [("Authorization", "Bearer s3cret-token")])
            let query = try await HTTP.request("POST", url + "?token=s3cret-token", body: "1")
            #expect(missing.status == 401 && wrong.status == 401)
            #expect(missing.json?["error"] as? String == "unauthorized")
            #expect(bearer.status == 200 && query.status == 200)
        }
    }

    @Test func originsAreCheckedOnTheAPI() async throws {
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let url = server.http + "/api/health"
            let none = try await HTTP.request("GET", url)
            let allowed = try await HTTP.request("GET", url, headers: [("Origin", "https://app.example")])
            let same = try await HTTP.request("GET", url, headers: [("Origin", "http://127.0.0.1:\(server.port)")])
            #expect(none.status == 200 && allowed.status == 200 && same.status == 200)
            let refused = try await HTTP.request("GET", url, headers: [("Origin", "https://evil.example")])
            #expect(refused.status == 403)
            #expect(refused.json?["error"] as? String == "origin-not-allowed")
        }
    }

    @Test func publishRateIsLimitedPerClient() async throws {
        // One per second: 20 quick requests refill at most a few tokens, however slow the machine.
        try await TestServer.with({ $0.limits.publishRate = 1 }) { server in
            var statuses: [Int] = []
            for _ in 0..<20 {
                statuses.append(try await HTTP.request("POST", server.http + "/api/channels/news/publish", body: "1").status)
            }
            #expect(statuses.first == 200)
            #expect(statuses.filter { $0 == 429 }.count >= 10)
            #expect(Set(statuses).isSubset(of: [200, 429]))
        }
    }
}
