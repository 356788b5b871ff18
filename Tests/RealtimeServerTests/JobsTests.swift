import Foundation
import Testing
@testable import Probe

/// Polls `check` until it holds or `timeout` seconds pass (a bounded wait, no fixed sleep).
private func jobsEventually(timeout: Double = 10, _ check: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .seconds(timeout))
    while ContinuousClock.now < deadline {
        if try await check() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await check()
}

/// `POST /api/jobs` and `GET /api/status/{id}` over real HTTP.
@Suite("Demo jobs over HTTP")
struct JobsTests {
    @Test func aJobRunsToDoneAndItsStatusFollows() async throws {
        try await TestServer.with { server in
            let created = try await HTTP.request("POST", server.http + "/api/jobs", body: #"{"steps":4,"intervalMs":20}"#)
            #expect(created.status == 201)
            let o = try #require(created.json)
            let id = try #require(o["id"] as? String)
            #expect(o["channel"] as? String == "job:\(id)")
            #expect(o["statusURL"] as? String == "/api/status/\(id)")
            #expect(created.header("Location") == "/api/status/\(id)")
            #expect(created.header("Content-Type")?.hasPrefix("application/json") == true)

            let first = try #require(try await HTTP.request("GET", server.http + "/api/status/\(id)").json)
            #expect(first["id"] as? String == id)
            #expect(["queued", "running", "done"].contains(first["state"] as? String ?? ""))
            #expect((0...100).contains(first["progress"] as? Int ?? -1))
            #expect((first["updatedAt"] as? String).flatMap { try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse($0) } != nil)

            let url = server.http + "/api/status/\(id)"
            let done = try await jobsEventually {
                try await HTTP.request("GET", url).json?["state"] as? String == "done"
            }
            #expect(done)
            let last = try #require(try await HTTP.request("GET", url).json)
            #expect(last["progress"] as? Int == 100)
        }
    }

    @Test func aJobWithoutOptionsRunsForAFewSeconds() async throws {
        try await TestServer.with { server in
            let created = try #require(try await HTTP.request("POST", server.http + "/api/jobs").json)
            let id = try #require(created["id"] as? String)
            let status = try #require(try await HTTP.request("GET", server.http + "/api/status/\(id)").json)
            // 10 steps 300 ms apart: nowhere near done right after it starts.
            #expect(["queued", "running"].contains(status["state"] as? String ?? ""))
            #expect((status["progress"] as? Int ?? 100) < 50)
        }
    }

    @Test func aFailingJobEndsFailed() async throws {
        try await TestServer.with { server in
            let created = try #require(try await HTTP.request("POST", server.http + "/api/jobs", body: #"{"steps":4,"intervalMs":10,"failAt":50}"#).json)
            let url = server.http + "/api/status/\(try #require(created["id"] as? String))"
            #expect(try await jobsEventually { try await HTTP.request("GET", url).json?["state"] as? String == "failed" })
            #expect(try await HTTP.request("GET", url).json?["progress"] as? Int == 50)
        }
    }

    @Test(arguments: ["/api/status/zzzzzzzzzzzz", "/api/status/nope", "/api/status/%2e%2e"])
    func unknownJobsAre404(path: String) async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("GET", server.http + path)
            #expect(r.status == 404)
            #expect(r.json?["error"] as? String == "not-found")
            #expect((r.json?["message"] as? String)?.isEmpty == false)
        }
    }

    @Test(arguments: [(#"{"steps":0}"#, "steps"), (#"{"intervalMs":"fast"}"#, "intervalMs"), ("[1]", "body"), ("{oops", "body")])
    func badOptionsAre400NamingTheField(body: String, field: String) async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("POST", server.http + "/api/jobs", body: body)
            #expect(r.status == 400)
            #expect(r.json?["error"] as? String == "bad-job")
            #expect((r.json?["message"] as? String)?.hasPrefix(field) == true)
        }
    }

    @Test func oversizeOptionsAre413() async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("POST", server.http + "/api/jobs", body: #"{"pad":""# + String(repeating: "x", count: 5000) + #""}"#)
            #expect(r.status == 413)
            #expect(r.json?["error"] as? String == "too-large")
        }
    }

    @Test func jobsCheckTheOrigin() async throws {
        try await TestServer.with({ $0.allowedOrigins = ["https://app.example"] }) { server in
            let refused = try await HTTP.request("POST", server.http + "/api/jobs", headers: [("Origin", "https://evil.example")])
            #expect(refused.status == 403)
            #expect(refused.json?["error"] as? String == "origin-not-allowed")
            let allowed = try await HTTP.request("POST", server.http + "/api/jobs", body: #"{"steps":1,"intervalMs":10}"#,
                                                 headers: [("Origin", "https://app.example")])
            #expect(allowed.status == 201)
            let status = try await HTTP.request("GET", server.http + "/api/status/x", headers: [("Origin", "https://evil.example")])
            #expect(status.status == 403)
        }
    }
}
