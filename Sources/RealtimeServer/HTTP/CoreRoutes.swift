import Foundation
import Hummingbird
import RealtimeCore

/// Health, discovery and the publish API.
enum CoreRoutes {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {
        router.get("/api/health") { request, _ in
            try state.access.check(request)
            let c = state
            let json = #"{"status":"ok","version":\#(JSONText.quote(c.configuration.version)),"uptimeSeconds":\#(Int(c.uptimeSeconds)),"connections":{"websocket":\#(c.connections(.websocket)),"sse":\#(c.connections(.sse)),"poll":\#(c.connections(.poll))}}"#
            return JSONResponse.make(json)
        }

        router.get("/api/realtime") { request, _ in
            try state.access.check(request)
            let l = state.configuration.limits
            let json = #"{"protocol":"wsdoctor.realtime/1","transports":{"websocket":"/ws","sse":"/sse","poll":"/poll"},"pingIntervalMs":\#(l.pingIntervalMs),"historySize":\#(l.history.size),"historyTTLSeconds":\#(Int(l.history.ttl))}"#
            return JSONResponse.make(json)
        }

        router.post("/api/channels/:channel/publish") { request, context in
            try state.access.check(request)
            try AccessPolicy.checkToken(state.configuration.publishToken, request)
            let raw = context.parameters.get("channel").map { $0.removingPercentEncoding ?? $0 } ?? ""
            guard let channel = ChannelName(raw) else {
                throw APIError.badRequest(Subscription.ParseError.badChannel(raw).description, code: "bad-channel")
            }
            let limit = state.configuration.limits.maxMessageSize
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: limit) } catch {
                throw APIError(.contentTooLarge, "too-large", "the message is larger than \(limit) bytes (--max-message-size)")
            }
            guard let data = JSONText(validating: String(buffer: body)) else {
                throw APIError.badRequest("the body must be a JSON value", code: "malformed-json")
            }
            guard state.publishLimits.allow(client: clientKey(request, context)) else {
                throw APIError(.tooManyRequests, "rate-limited",
                               "more than \(Int(state.configuration.limits.publishRate)) publishes per second (--publish-rate)",
                               headers: [.retryAfter: "1"])
            }
            let message = await state.store.publish(channel, data: data)
            state.metrics.published()
            return JSONResponse.make(#"{"channel":\#(JSONText.quote(channel.value)),"epoch":\#(JSONText.quote(message.epoch.value)),"offset":\#(message.offset)}"#)
        }
    }

    /// Who a publish counts against: the bearer token if any, else the peer address.
    static func clientKey(_ request: Request, _ context: AppRequestContext) -> String {
        AccessPolicy.token(in: request).map { "token:\($0)" } ?? "ip:\(context.remoteIP ?? "unknown")"
    }
}

/// Per-client publish rate over HTTP (`--publish-rate`, per second).
public final class PublishRateLimits: Sendable {
    private let limiters = NIOLockedValueBox([String: RateLimiter]())
    private let rate: Double

    init(rate: Double) { self.rate = rate }

    func allow(client: String) -> Bool {
        let now = ProcessInfo.processInfo.systemUptime
        return limiters.withLockedValue { l in
            if l.count > 10_000 { l.removeAll() }  // bounded: forget idle clients wholesale
            var limiter = l[client] ?? RateLimiter(rate: rate)
            let ok = limiter.allow(now: now)
            l[client] = limiter
            return ok
        }
    }
}

import NIOConcurrencyHelpers
