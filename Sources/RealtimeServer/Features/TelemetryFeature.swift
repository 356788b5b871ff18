import Foundation
import Hummingbird
import RealtimeCore
import ServiceLifecycle

/// Client telemetry: `POST /api/telemetry` takes `{"events":[…]}` (at most
/// `telemetryMaxEvents` events, `telemetryMaxBytes` bytes; each event checked, a bad one
/// refuses the batch naming the field) and answers 202 `{"accepted":N}`; the aggregate
/// (per-transport success rate, fallbacks, causes, connect-time percentiles) is served
/// with the server's connection counts at `GET /api/stats` (admin token).
enum TelemetryFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] {
        register(on: router, state: state, collector: TelemetryCollector())
        return []
    }

    static func register(on router: Router<AppRequestContext>, state: ServerState, collector: TelemetryCollector) {
        router.post("/api/telemetry") { request, _ in
            try state.access.check(request)
            let limits = state.configuration.limits
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: limits.telemetryMaxBytes) } catch {
                throw APIError(.contentTooLarge, "too-large", "telemetry is at most \(limits.telemetryMaxBytes) bytes per request")
            }
            let events: [TelemetryEvent]
            do throws(TelemetryBatch.Refusal) { events = try TelemetryBatch.parse(String(buffer: body), maxEvents: limits.telemetryMaxEvents) } catch {
                throw APIError.badRequest(error.description, code: error.code)
            }
            collector.add(events)
            for event in events {
                state.metrics.telemetryEvent(transport: event.transport.rawValue, outcome: event.outcome.rawValue)
                if event.outcome == .fallback { state.metrics.fallback(to: event.transport.rawValue) }
            }
            return JSONResponse.make(#"{"accepted":\#(events.count)}"#, status: .accepted)
        }

        router.get("/api/stats") { request, _ in
            try state.access.check(request)
            try AdminAccess.check(state, request)
            let connections = #"{"websocket":\#(state.connections(.websocket)),"sse":\#(state.connections(.sse)),"poll":\#(state.connections(.poll))}"#
            return JSONResponse.make(
                #"{"uptimeSeconds":\#(Int(state.uptimeSeconds)),"connections":\#(connections),"telemetry":\#(collector.snapshot.json.text)}"#)
        }
    }
}
