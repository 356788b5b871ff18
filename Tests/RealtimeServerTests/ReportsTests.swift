import Foundation
import Testing
@testable import Probe
import RealtimeServer

/// `POST /api/diagnostics` and reading reports back with the admin token, over real HTTP
/// against the real SQLite store.
@Suite("Diagnostics reports")
struct ReportsTests {
    static let admin = "admin-s3cret"
    static let bearer = [("Authorization", "Bearer \(admin)")]

    static func isCode(_ s: String) -> Bool {
        s.range(of: #"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$"#, options: .regularExpression) != nil
    }

    @Test func aReportIsStoredAndReadBackByItsCode() async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let body = #"{"verdict":"websocket-blocked","steps":[1,2,3],"ok":false,"Authorization":"Bearer leaked","nested":{"Cookie":"sid=1","keep":"yes"}}"#
            let posted = try await HTTP.request("POST", server.http + "/api/diagnostics", body: body)
            #expect(posted.status == 201)
            let code = try #require(posted.json?["id"] as? String)
            #expect(Self.isCode(code))

            let read = try await HTTP.request("GET", server.http + "/api/diagnostics/\(code)", headers: Self.bearer)
            #expect(read.status == 200)
            let o = try #require(read.json)
            #expect(o["id"] as? String == code)
            let receivedAt = try #require(o["receivedAt"] as? String)
            let at = try Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(receivedAt)
            #expect(abs(at.timeIntervalSinceNow) < 60)
            let report = try #require(o["report"] as? [String: Any])
            #expect(report["verdict"] as? String == "websocket-blocked")
            #expect((report["steps"] as? [Int]) == [1, 2, 3])
            #expect(read.body.contains(#""ok":false"#))
            // Credentials never reach the store.
            #expect(report["Authorization"] == nil && (report["nested"] as? [String: Any])?["Cookie"] == nil)
            #expect((report["nested"] as? [String: Any])?["keep"] as? String == "yes")
            #expect(!read.body.contains("leaked") && !read.body.contains("sid=1"))

            // As a user reads it over the phone: lower case, a space instead of the dash, O for 0.
            let spoken = code.lowercased().replacingOccurrences(of: "0", with: "o").replacingOccurrences(of: "-", with: "%20")
            let again = try await HTTP.request("GET", server.http + "/api/diagnostics/\(spoken)?token=\(Self.admin)")
            #expect(again.status == 200)
            #expect(again.json?["id"] as? String == code)
        }
    }

    @Test func readingNeedsTheAdminToken() async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let code = try #require(try await HTTP.request("POST", server.http + "/api/diagnostics", body: "{}").json?["id"] as? String)
            let url = server.http + "/api/diagnostics/\(code)"
            for headers in [[], [("Authorization", "Bearer wrong")], [("Authorization", "Basic \(Self.admin)")]] {
                let r = try await HTTP.request("GET", url, headers: headers)
                #expect(r.status == 401)
                #expect(r.json?["error"] as? String == "unauthorized")
                #expect(r.json?["report"] == nil)
            }
            #expect(try await HTTP.request("GET", url + "?token=wrong").status == 401)
            #expect(try await HTTP.request("GET", server.http + "/api/diagnostics", headers: [("Authorization", "Bearer wrong")]).status == 401)
        }
    }

    @Test func withoutAnAdminTokenReportsCannotBeReadAtAll() async throws {
        try await TestServer.with { server in
            let posted = try await HTTP.request("POST", server.http + "/api/diagnostics", body: #"{"a":1}"#)
            #expect(posted.status == 201)
            let code = try #require(posted.json?["id"] as? String)
            for path in ["/api/diagnostics/\(code)", "/api/diagnostics"] {
                let r = try await HTTP.request("GET", server.http + path, headers: [("Authorization", "Bearer anything")])
                #expect(r.status == 403)
                #expect(r.json?["error"] as? String == "admin-token-not-set")
                #expect((r.json?["message"] as? String)?.contains("--admin-token") == true)
            }
        }
    }

    @Test(arguments: ["ZZZZ-ZZZZ", "zzzz zzzz", "not-a-code", "K7Q2-9XMDX"])
    func unknownReportsAre404(code: String) async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            let path = code.replacingOccurrences(of: " ", with: "%20")
            let r = try await HTTP.request("GET", server.http + "/api/diagnostics/\(path)", headers: Self.bearer)
            #expect(r.status == 404)
            #expect(r.json?["error"] as? String == "not-found")
        }
    }

    @Test func badReportsAreRefusedAndNothingIsStored() async throws {
        try await TestServer.with({ $0.adminToken = Self.admin; $0.limits.maxReportSize = 1024 }) { server in
            let url = server.http + "/api/diagnostics"
            let big = try await HTTP.request("POST", url, body: #"{"pad":""# + String(repeating: "x", count: 2000) + #""}"#)
            #expect(big.status == 413)
            #expect(big.json?["error"] as? String == "too-large")
            let malformed = try await HTTP.request("POST", url, body: #"{"verdict":"#)
            #expect(malformed.status == 400)
            #expect(malformed.json?["error"] as? String == "malformed-json")
            for notObject in ["[1,2]", "\"text\"", "42", "null"] {
                let r = try await HTTP.request("POST", url, body: notObject)
                #expect(r.status == 400)
                #expect(r.json?["error"] as? String == "not-an-object")
            }
            let empty = try await HTTP.request("POST", url, body: "")
            #expect(empty.status == 400)
            let list = try #require(try await HTTP.request("GET", url, headers: Self.bearer).json)
            #expect(list["total"] as? Int == 0)
            // And the server still serves others.
            #expect(try await HTTP.request("POST", url, body: #"{"fine":true}"#).status == 201)
        }
    }

    @Test func reportsSurviveARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-reports-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let configure: @Sendable (inout ServerConfiguration) -> Void = {
            $0.dataDirectory = directory
            $0.adminToken = Self.admin
        }
        let code = try await TestServer.with(configure) { server in
            let posted = try await HTTP.request("POST", server.http + "/api/diagnostics", body: #"{"verdict":"kept","n":7}"#)
            return try #require(posted.json?["id"] as? String)
        }
        let file = directory.appendingPathComponent("reports.sqlite").path
        #expect(FileManager.default.fileExists(atPath: file))
        let permissions = try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int
        #expect(permissions == 0o600)
        try await TestServer.with(configure) { server in
            let read = try await HTTP.request("GET", server.http + "/api/diagnostics/\(code)", headers: Self.bearer)
            #expect(read.status == 200)
            let report = try #require(read.json?["report"] as? [String: Any])
            #expect(report["verdict"] as? String == "kept" && report["n"] as? Int == 7)
            let second = try #require(try await HTTP.request("POST", server.http + "/api/diagnostics", body: "{}").json?["id"] as? String)
            #expect(second != code)
            let list = try #require(try await HTTP.request("GET", server.http + "/api/diagnostics", headers: Self.bearer).json)
            #expect(list["total"] as? Int == 2)
        }
    }

    @Test func theListShowsTheNewestFirst() async throws {
        try await TestServer.with({ $0.adminToken = Self.admin }) { server in
            var codes: [String] = []
            for i in 0..<3 {
                let r = try await HTTP.request("POST", server.http + "/api/diagnostics", body: #"{"i":\#(i)}"#)
                codes.append(try #require(r.json?["id"] as? String))
            }
            let list = try #require(try await HTTP.request("GET", server.http + "/api/diagnostics?limit=2", headers: Self.bearer).json)
            #expect(list["total"] as? Int == 3)
            let items = try #require(list["reports"] as? [[String: Any]])
            #expect(items.map { $0["id"] as? String } == [codes[2], codes[1]])
            #expect(items.allSatisfy { ($0["bytes"] as? Int ?? 0) > 0 && $0["receivedAt"] is String })
            for bad in ["0", "abc", "100000"] {
                let r = try await HTTP.request("GET", server.http + "/api/diagnostics?limit=\(bad)", headers: Self.bearer)
                #expect(r.status == 400)
                #expect(r.json?["error"] as? String == "bad-limit")
            }
        }
    }

    @Test func oneClientCannotFloodTheStore() async throws {
        try await TestServer.with { server in
            var statuses: [Int] = []
            for _ in 0..<30 {
                statuses.append(try await HTTP.request("POST", server.http + "/api/diagnostics", body: "{}").status)
            }
            #expect(statuses.prefix(20).allSatisfy { $0 == 201 })
            #expect(statuses.contains(429))
        }
    }

    @Test func reportsCheckTheOrigin() async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("POST", server.http + "/api/diagnostics", body: "{}", headers: [("Origin", "https://evil.example")])
            #expect(r.status == 403)
            #expect(r.json?["error"] as? String == "origin-not-allowed")
        }
    }
}
