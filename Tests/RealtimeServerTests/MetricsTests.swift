import Foundation
import Testing
@testable import Probe
@testable import RealtimeServer

/// A strict reader of the Prometheus text exposition format (0.0.4): every line is a
/// `# HELP`, a `# TYPE` or a sample `name{label="value",…} value`; a family's TYPE comes
/// once, before its samples; no series appears twice.
struct PrometheusText {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    struct Invalid: Error, CustomStringConvertible {
        var description: String
    }

    var types: [String: String] = [:]
    var help: [String: String] = [:]
    var samples: [Sample] = []

    func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    static func isName(_ s: Substring) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    static func parseValue(_ s: Substring) -> Double? {
        switch s {
        case "+Inf": return .infinity
        case "-Inf": return -.infinity
        case "NaN": return .nan
        default: return s.isEmpty || s.contains(where: { $0.isLetter && $0 != "e" && $0 != "E" }) ? nil : Double(s)
        }
    }

    init(_ text: String) throws {
        guard text.isEmpty || text.hasSuffix("\n") else { throw Invalid(description: "the exposition must end with a newline") }
        var seen = Set<String>()
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().enumerated() {
            func fail(_ why: String) -> Invalid { Invalid(description: "line \(n + 1) '\(line)': \(why)") }
            if line.hasPrefix("# HELP ") {
                let rest = line.dropFirst(7)
                guard let space = rest.firstIndex(of: " "), Self.isName(rest[..<space]) else { throw fail("bad HELP") }
                let name = String(rest[..<space])
                guard help[name] == nil, types[name] == nil else { throw fail("HELP after TYPE or twice") }
                help[name] = String(rest[rest.index(after: space)...])
            } else if line.hasPrefix("# TYPE ") {
                let parts = line.dropFirst(7).split(separator: " ", omittingEmptySubsequences: false)
                guard parts.count == 2, Self.isName(parts[0]),
                      ["counter", "gauge", "histogram", "summary", "untyped"].contains(parts[1]) else { throw fail("bad TYPE") }
                guard types[String(parts[0])] == nil else { throw fail("TYPE twice") }
                types[String(parts[0])] = String(parts[1])
            } else if line.hasPrefix("#") || line.isEmpty {
                throw fail("unexpected comment or blank line")
            } else {
                var rest = line[...]
                let nameEnd = rest.firstIndex { $0 == "{" || $0 == " " } ?? rest.endIndex
                let name = rest[..<nameEnd]
                guard Self.isName(name) else { throw fail("bad metric name") }
                rest = rest[nameEnd...]
                var labels: [String: String] = [:]
                if rest.first == "{" {
                    rest = rest.dropFirst()
                    while rest.first != "}" {
                        guard let eq = rest.firstIndex(of: "="), Self.isName(rest[..<eq]) else { throw fail("bad label name") }
                        let key = String(rest[..<eq])
                        rest = rest[rest.index(after: eq)...]
                        guard rest.first == "\"" else { throw fail("label value must be quoted") }
                        rest = rest.dropFirst()
                        var value = ""
                        while true {
                            guard let c = rest.first else { throw fail("unterminated label value") }
                            rest = rest.dropFirst()
                            if c == "\"" { break }
                            if c == "\\" {
                                guard let e = rest.first, ["\\", "\"", "n"].contains(e) else { throw fail("bad escape") }
                                value.append(e == "n" ? "\n" : e)
                                rest = rest.dropFirst()
                            } else {
                                value.append(c)
                            }
                        }
                        guard labels[key] == nil else { throw fail("label twice") }
                        labels[key] = value
                        if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" { throw fail("expected , or }") }
                    }
                    rest = rest.dropFirst()
                }
                guard rest.first == " " else { throw fail("expected a space before the value") }
                let fields = rest.dropFirst().split(separator: " ", omittingEmptySubsequences: false)
                guard (1...2).contains(fields.count), let value = Self.parseValue(fields[0]) else { throw fail("bad value") }
                if fields.count == 2, Int64(fields[1]) == nil { throw fail("bad timestamp") }
                let family = types[String(name)] != nil ? String(name)
                    : ["_bucket", "_sum", "_count"].lazy.compactMap { s in name.hasSuffix(s) ? String(name.dropLast(s.count)) : nil }.first ?? String(name)
                guard types[family] != nil else { throw fail("sample before its TYPE") }
                let key = "\(name)\(labels.sorted { $0.key < $1.key })"
                guard seen.insert(key).inserted else { throw fail("series twice") }
                samples.append(Sample(name: String(name), labels: labels, value: value))
            }
        }
    }
}

private func metricsEventually(timeout: Double = 10, _ check: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now.advanced(by: .seconds(timeout))
    while ContinuousClock.now < deadline {
        if try await check() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await check()
}

@Suite("Prometheus metrics")
struct MetricsTests {
    func scrape(_ server: RunningServer) async throws -> PrometheusText {
        let r = try await HTTP.request("GET", server.http + "/metrics")
        #expect(r.status == 200)
        return try PrometheusText(r.body)
    }

    @Test func theStrictReaderRefusesWhatPrometheusWould() {
        for bad in ["x 1\n", "# TYPE x counter\nx{a=\"1\" 1\n", "# TYPE x counter\nx one\n", "# TYPE x counter\nx 1\nx 2\n",
                    "# TYPE x counter\n# TYPE x gauge\n", "# TYPE 1x counter\n", "# TYPE x counter\nx 1", "# TYPE x counter\nx{a=1} 1\n"] {
            #expect(throws: PrometheusText.Invalid.self, "\(bad)") { try PrometheusText(bad) }
        }
        let good = try? PrometheusText("# HELP x_total Things\n# TYPE x_total counter\nx_total{a=\"q\\\"uote\",b=\"2\"} 3\nx_total 1.5e3\n")
        #expect(good?.value("x_total", ["a": "q\"uote", "b": "2"]) == 3)
        #expect(good?.value("x_total") == 1500)
    }

    @Test func metricsAreAPrometheusExpositionWithEveryFamily() async throws {
        try await TestServer.with { server in
            let r = try await HTTP.request("GET", server.http + "/metrics")
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
            let m = try PrometheusText(r.body)
            for transport in ["websocket", "sse", "poll"] {
                #expect(m.value("wsdoctor_connections", ["transport": transport]) == 0)
                #expect(m.value("wsdoctor_messages_delivered_total", ["transport": transport]) == 0)
                #expect(m.value("wsdoctor_client_fallbacks_total", ["transport": transport]) == 0)
            }
            #expect(m.types["wsdoctor_connections"] == "gauge")
            #expect(m.types["wsdoctor_messages_published_total"] == "counter")
            #expect(m.value("wsdoctor_messages_published_total") == 0)
            #expect(m.value("wsdoctor_reports_stored_total") == 0)
            #expect(m.value("wsdoctor_reports") == 0)
            #expect(m.help["wsdoctor_connections"]?.isEmpty == false)
        }
    }

    @Test func numbersMoveWithJobsTelemetryAndReports() async throws {
        try await TestServer.with { server in
            let job = try #require(try await HTTP.request("POST", server.http + "/api/jobs", body: #"{"steps":2,"intervalMs":10}"#).json)
            let status = server.http + "/api/status/\(try #require(job["id"] as? String))"
            #expect(try await metricsEventually { try await HTTP.request("GET", status).json?["state"] as? String == "done" })
            let telemetry = #"{"events":[{"transport":"sse","outcome":"fallback"},{"transport":"poll","outcome":"fallback"},{"transport":"sse","outcome":"fallback"},{"transport":"websocket","outcome":"failed","closeCode":1006}]}"#
            #expect(try await HTTP.request("POST", server.http + "/api/telemetry", body: telemetry).status == 202)
            #expect(try await HTTP.request("POST", server.http + "/api/diagnostics", body: #"{"a":1}"#).status == 201)

            let m = try await scrape(server)
            #expect(m.value("wsdoctor_messages_published_total") == 3)  // running 0, running 50, done 100
            #expect(m.value("wsdoctor_client_fallbacks_total", ["transport": "sse"]) == 2)
            #expect(m.value("wsdoctor_client_fallbacks_total", ["transport": "poll"]) == 1)
            #expect(m.value("wsdoctor_telemetry_events_total", ["transport": "websocket", "outcome": "failed"]) == 1)
            #expect(m.value("wsdoctor_reports_stored_total") == 1)
            #expect(m.value("wsdoctor_reports") == 1)
        }
    }

    @Test func theReportGaugeCountsWhatTheStoreHoldsAfterARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-metrics-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try await TestServer.with({ $0.dataDirectory = directory }) { server in
            for _ in 0..<2 {
                let posted = try await HTTP.request("POST", server.http + "/api/diagnostics", body: "{}")
                #expect(posted.status == 201)
            }
        }
        try await TestServer.with({ $0.dataDirectory = directory }) { server in
            let m = try await scrape(server)
            #expect(m.value("wsdoctor_reports") == 2)
            #expect(m.value("wsdoctor_reports_stored_total") == 0)
        }
    }

    @Test func theFacadeKeepsLabelsBounded() throws {
        let metrics = ServerMetrics()
        metrics.connectionOpened(.sse)
        metrics.connectionOpened(.sse)
        metrics.connectionClosed(.sse)
        metrics.connectionOpened(.websocket)
        metrics.handshake(outcome: "upgraded", status: 101)
        metrics.handshake(outcome: "rejected", status: 403)
        metrics.handshake(outcome: "rejected", status: 403)
        metrics.handshake(outcome: "<script>", status: 9999)
        metrics.closed(code: 1006)
        metrics.closed(code: 4429)
        metrics.closed(code: 3999)
        metrics.closed(code: 4123)
        metrics.published()
        metrics.delivered(5, over: .poll)
        metrics.delivered(0, over: .poll)
        metrics.fallback(to: "sse")
        metrics.fallback(to: "carrier-pigeon")
        let m = try PrometheusText(String(decoding: metrics.exposition(), as: UTF8.self))
        #expect(m.value("wsdoctor_connections", ["transport": "sse"]) == 1)
        #expect(m.value("wsdoctor_connections", ["transport": "websocket"]) == 1)
        #expect(m.value("wsdoctor_handshakes_total", ["outcome": "upgraded", "status": "101"]) == 1)
        #expect(m.value("wsdoctor_handshakes_total", ["outcome": "rejected", "status": "403"]) == 2)
        #expect(m.value("wsdoctor_handshakes_total", ["outcome": "other", "status": "other"]) == 1)
        #expect(m.value("wsdoctor_websocket_closes_total", ["code": "1006"]) == 1)
        #expect(m.value("wsdoctor_websocket_closes_total", ["code": "4429"]) == 1)
        #expect(m.value("wsdoctor_websocket_closes_total", ["code": "other"]) == 2)
        #expect(m.value("wsdoctor_messages_published_total") == 1)
        #expect(m.value("wsdoctor_messages_delivered_total", ["transport": "poll"]) == 5)
        #expect(m.value("wsdoctor_client_fallbacks_total", ["transport": "other"]) == 1)
        // Two servers in one process keep their own numbers.
        let other = try PrometheusText(String(decoding: ServerMetrics().exposition(), as: UTF8.self))
        #expect(other.value("wsdoctor_messages_published_total") == 0)
    }
}
