import Foundation
import Testing
@testable import RealtimeCore

@Suite("Telemetry (pure)")
struct TelemetryTests {
    @Test func aFullEventParses() throws {
        let events = try TelemetryBatch.parse(#"""
        {"events":[{"at":"2026-11-21T10:00:00.000Z","transport":"websocket","outcome":"failed",
                    "cause":"abnormal-closure","connectMs":120,"closeCode":1006},
                   {"transport":"sse","outcome":"fallback"},
                   {"at":"2026-11-21T10:00:01Z","transport":"poll","outcome":"connected","connectMs":35.5,"cause":null}]}
        """#, maxEvents: 100)
        #expect(events.count == 3)
        #expect(events[0] == TelemetryEvent(at: Date(timeIntervalSince1970: 1_795_255_200), transport: .websocket, outcome: .failed,
                                            cause: "abnormal-closure", connectMs: 120, closeCode: 1006))
        #expect(events[1] == TelemetryEvent(transport: .sse, outcome: .fallback))
        #expect(events[2].connectMs == 35.5 && events[2].at != nil && events[2].cause == nil)
        #expect(try TelemetryBatch.parse(#"{"events":[]}"#, maxEvents: 100).isEmpty)
    }

    @Test(arguments: [
        (#"{"events":[{"transport":"carrier-pigeon","outcome":"failed"}]}"#, "events[0].transport"),
        (#"{"events":[{"transport":"sse","outcome":"exploded"}]}"#, "events[0].outcome"),
        (#"{"events":[{"outcome":"failed"}]}"#, "events[0].transport"),
        (#"{"events":[{"transport":"sse","outcome":"closed"},{"transport":"sse"}]}"#, "events[1].outcome"),
        (#"{"events":[{"transport":"sse","outcome":"closed","connectMs":"12"}]}"#, "events[0].connectMs"),
        (#"{"events":[{"transport":"sse","outcome":"closed","connectMs":-1}]}"#, "events[0].connectMs"),
        (#"{"events":[{"transport":"sse","outcome":"closed","connectMs":true}]}"#, "events[0].connectMs"),
        (#"{"events":[{"transport":"websocket","outcome":"closed","closeCode":1006.5}]}"#, "events[0].closeCode"),
        (#"{"events":[{"transport":"websocket","outcome":"closed","closeCode":70000}]}"#, "events[0].closeCode"),
        (#"{"events":[{"transport":"sse","outcome":"failed","cause":"has spaces"}]}"#, "events[0].cause"),
        (#"{"events":[{"transport":"sse","outcome":"failed","cause":7}]}"#, "events[0].cause"),
        (#"{"events":[{"transport":"sse","outcome":"failed","at":"yesterday"}]}"#, "events[0].at"),
        (#"{"events":["websocket"]}"#, "events[0]"),
        (#"{"events":{}}"#, "events"),
        (#"{"evts":[]}"#, "events"),
        ("[]", "body"),
    ])
    func badEventsNameTheField(body: String, field: String) {
        do {
            _ = try TelemetryBatch.parse(body, maxEvents: 100)
            Issue.record("accepted \(body)")
        } catch {
            guard case .invalid(let f, let message) = error else { Issue.record("\(error)"); return }
            #expect(f == field)
            #expect(!message.isEmpty)
            #expect(error.code == "invalid-event")
        }
    }

    @Test func tooManyEventsAndNonJSONAreRefused() {
        let one = #"{"transport":"sse","outcome":"connected"}"#
        let body = #"{"events":["# + Array(repeating: one, count: 4).joined(separator: ",") + "]}"
        #expect(throws: TelemetryBatch.Refusal.tooManyEvents(count: 4, max: 3)) { try TelemetryBatch.parse(body, maxEvents: 3) }
        #expect(throws: TelemetryBatch.Refusal.malformed) { try TelemetryBatch.parse("{events", maxEvents: 3) }
    }

    @Test func statsCountOutcomesRatesFallbacksAndCauses() throws {
        var stats = TelemetryStats(since: Date(timeIntervalSince1970: 0))
        stats.add([
            TelemetryEvent(transport: .websocket, outcome: .connected, connectMs: 100),
            TelemetryEvent(transport: .websocket, outcome: .connected, connectMs: 300),
            TelemetryEvent(transport: .websocket, outcome: .connected, connectMs: 200),
            TelemetryEvent(transport: .websocket, outcome: .failed, cause: "abnormal-closure", closeCode: 1006),
            TelemetryEvent(transport: .sse, outcome: .fallback, cause: "upgrade-headers-stripped"),
            TelemetryEvent(transport: .websocket, outcome: .failed, cause: "abnormal-closure", closeCode: 1006),
            TelemetryEvent(transport: .websocket, outcome: .closed, closeCode: 1001),
        ])
        let ws = try #require(stats.transports[.websocket])
        #expect(ws.count(.connected) == 3 && ws.count(.failed) == 2 && ws.count(.closed) == 1)
        #expect(ws.successRate == 0.6)
        #expect(stats.transports[.poll]?.successRate == nil)
        #expect(ws.connectMs.percentiles([50, 100]) == [200, 300])
        #expect(stats.causesByFrequency.map(\.cause) == ["abnormal-closure", "upgrade-headers-stripped"])
        #expect(stats.closeCodesByFrequency.first?.code == 1006 && stats.closeCodesByFrequency.first?.count == 2)

        let o = try #require(try JSONSerialization.jsonObject(with: Data(stats.json.text.utf8)) as? [String: Any])
        #expect(o["events"] as? Int == 7)
        let t = try #require(o["transports"] as? [String: [String: Any]])
        #expect(t["websocket"]?["successRate"] as? Double == 0.6)
        #expect(t["poll"]?["successRate"] is NSNull)
        let c = try #require(t["websocket"]?["connectMs"] as? [String: Any])
        #expect(c["count"] as? Int == 3 && c["p50"] as? Int == 200 && c["max"] as? Int == 300 && c["min"] as? Int == 100)
        #expect((o["fallbacks"] as? [String: Int])?["sse"] == 1)
        #expect(((o["causes"] as? [[String: Any]])?.first)?["cause"] as? String == "abnormal-closure")
    }

    @Test func distinctCausesAreBounded() {
        var stats = TelemetryStats(since: Date(), maxDistinct: 5)
        for i in 0..<50 { stats.add(TelemetryEvent(transport: .sse, outcome: .failed, cause: "cause-\(i)", closeCode: 3000 + i)) }
        stats.add(TelemetryEvent(transport: .sse, outcome: .failed, cause: "cause-0"))
        #expect(stats.causes.count == 5 && stats.otherCauses == 45)
        #expect(stats.causes["cause-0"] == 2)
        #expect(stats.closeCodes.count == 5 && stats.otherCloseCodes == 45)
    }

    @Test func reservoirIsExactBelowCapacityAndBoundedAbove() {
        var r = SampleReservoir(capacity: 100)
        for v in (1...100).reversed() { r.add(Double(v)) }
        #expect(r.percentiles([50, 90, 99, 100]) == [50, 90, 99, 100])
        #expect(r.percentiles([0]) == [1])
        for v in 1...100_000 { r.add(Double(v % 1000)) }
        #expect(r.samples.count == 100)
        #expect(r.seen == 100_100)
        #expect(r.maximum == 999 && r.minimum == 0)
        // A uniform sample of 0..<1000: the median lands near 500.
        let p50 = r.percentiles([50])[0] ?? 0
        #expect(p50 > 300 && p50 < 700)
        #expect(SampleReservoir().percentiles([50]) == [nil])
        r.add(.nan)
        #expect(r.seen == 100_100)
    }

    @Test func timesParseWithAndWithoutFractionsAndOffsets() {
        #expect(FeatureTime.parse("2026-11-21T10:00:00.000Z") == Date(timeIntervalSince1970: 1_795_255_200))
        #expect(FeatureTime.parse("2026-11-21T10:00:00Z") == Date(timeIntervalSince1970: 1_795_255_200))
        #expect(FeatureTime.parse("2026-11-21T11:00:00+01:00") == Date(timeIntervalSince1970: 1_795_255_200))
        #expect(FeatureTime.parse("tomorrow") == nil && FeatureTime.parse("") == nil)
        #expect(FeatureTime.text(Date(timeIntervalSince1970: 1_795_255_200.25)) == "2026-11-21T10:00:00.250Z")
    }
}
