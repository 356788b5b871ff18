import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore
import RealtimeCore

/// `/ws` and `/echo` over HummingbirdWebSocket: the upgrade decision (origin, capacity,
/// the `--simulate` upgrade faults, the handshake log), the sessions, and the plain-GET
/// answers of the router.
enum WebSocketTransport {
    static func serverConfiguration(_ state: ServerState) -> HTTP1WebSocketUpgradeChannel.Configuration {
        let limits = state.configuration.limits
        return .init(
            http1: .init(additionalChannelHandlers: [UpgradeHeaderStash()]),
            ws: .init(
                // One frame may carry a whole message; larger ones are refused with 1009
                // by NIO's decoder, fragmented ones by swift-websocket's message reader.
                maxFrameSize: max(125, min(limits.maxMessageSize, Int(UInt32.max))),
                // Pings are the guard's (4408 on an overdue pong); the library's would close with 1001.
                autoPing: .disabled,
                closeTimeout: .seconds(10),
                validateUTF8: true
            )
        )
    }

    static func shouldUpgrade(_ request: HTTPRequest, channel: any Channel, logger: Logger, state: ServerState)
        async throws -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
    {
        let arrived = Date()
        let configuration = state.configuration
        let target = UpgradeTarget(requestTarget: request.path ?? "/")
        let serverName = "wsdoctor/\(configuration.version)"

        // Faults that delay the answer, whatever it is.
        let slow: Double = configuration.fault { if case .slowHandshake(let s) = $0 { s } else { nil } } ?? 0
        let latency: Double = configuration.fault { if case .latency(let s) = $0 { s } else { nil } } ?? 0
        let delay = slow + latency
        if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }

        guard let endpoint = target.endpoint else {
            state.metrics.handshake(outcome: "rejected", status: 404)
            try await UpgradeRefusalHandler.refuse(channel, with: .jsonError(
                status: 404, error: "not-found",
                message: "no WebSocket endpoint at \(target.path.prefix(100)): use /ws (realtime protocol) or /echo",
                headers: [.init("Server", serverName)]))
            return .dontUpgrade
        }

        func refuse(_ response: RawHTTPResponse, seen fields: HTTPFields = request.headerFields) async throws
            -> ShouldUpgradeResult<WebSocketDataHandler<HTTP1WebSocketUpgradeChannel.Context>>
        {
            record(state, target: target, fields: fields, at: arrived, outcome: "rejected", status: response.status)
            try await UpgradeRefusalHandler.refuse(channel, with: response)
            return .dontUpgrade
        }

        if configuration.has(.stripUpgrade) {
            // As a server behind a proxy that dropped the hop-by-hop headers: it never saw
            // Upgrade or Connection (and its log says so).
            var stripped = request.headerFields
            stripped[.upgrade] = nil
            stripped[.connection] = nil
            return try await refuse(SimulatedUpgradeAnswer.stripped(server: serverName), seen: stripped)
        }
        if configuration.has(.swallowUpgrade) {
            return try await refuse(SimulatedUpgradeAnswer.swallowed(server: serverName))
        }
        // NIO upgrades without `Connection: Upgrade`; RFC 6455 §4.2.1 asks for it, and its
        // absence is what a proxy that dropped the hop-by-hop headers leaves.
        let connection = (request.headerFields[.connection] ?? "").lowercased()
        if !connection.split(separator: ",").contains(where: { $0.trimmingCharacters(in: .whitespaces) == "upgrade" }) {
            return try await refuse(upgradeRequired(path: target.path))
        }
        if let refused = state.access.refusedOrigin(origin: request.headerFields[.origin], host: request.authority) {
            return try await refuse(.jsonError(
                status: 403, error: "origin-not-allowed",
                message: "origin \(refused.prefix(200)) is not allowed (use --allow-origin)",
                headers: [.init("Server", serverName)]))
        }
        guard let slot = state.openConnection(.websocket) else {
            return try await refuse(.jsonError(
                status: 503, error: "over-capacity",
                message: "the server holds \(configuration.limits.maxConnections) connections (--max-connections): retry later",
                headers: [.init("Retry-After", "5"), .init("Server", serverName)]))
        }

        record(state, target: target, fields: request.headerFields, at: arrived, outcome: "upgraded", status: 101)
        let watch = WebSocketGuard(settings: guardSettings(configuration), eventLoop: channel.eventLoop) { code in
            state.metrics.closed(code: code)
        }
        try await channel.pipeline.addHandler(WebSocketGuardInstaller(watch))
        switch endpoint {
        case .realtime:
            let session = RealtimeSession(state: state, watch: watch, slot: slot,
                                          mayPublish: mayPublish(request, target: target, configuration: configuration))
            return .upgrade([:], session.handler)
        case .echo:
            return .upgrade([:], EchoSession(state: state, watch: watch, slot: slot).handler)
        }
    }

    /// GET `/ws` and `/echo` that reached the router: requests without upgrade headers
    /// (a proxy dropped them, or a browser opened the URL). 426 with `Upgrade: websocket`,
    /// or 403 for a refused origin; logged like upgrades when `?probe=` is given.
    static func registerPlainRoutes(on router: Router<AppRequestContext>, state: ServerState) {
        for endpoint in UpgradeTarget.Endpoint.allCases {
            router.get(RouterPath(endpoint.rawValue)) { request, _ -> Response in
                let target = UpgradeTarget(requestTarget: request.uri.description)
                let upgradeSeen: String?? = .some(request.headers[UpgradeHeaderStash.field])
                func answer(_ status: Int) {
                    record(state, target: target, fields: request.headers, upgrade: upgradeSeen, outcome: "rejected", status: status)
                }
                if state.configuration.has(.stripUpgrade) {
                    // The simulated server cannot tell a stripped upgrade from a plain GET.
                    answer(400)
                    let raw = SimulatedUpgradeAnswer.stripped(server: "wsdoctor/\(state.configuration.version)")
                    var headers = HTTPFields()
                    for h in raw.headers where h.name != "Server" {
                        if let name = HTTPField.Name(h.name) { headers[name] = h.value }
                    }
                    return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: ByteBuffer(string: raw.body)))
                }
                if let refused = state.access.refusedOrigin(origin: request.headers[.origin], host: request.head.authority) {
                    answer(403)
                    throw APIError.forbiddenOrigin(refused)
                }
                answer(426)
                let raw = upgradeRequired(path: endpoint.rawValue)
                var headers = HTTPFields()
                for h in raw.headers {
                    if let name = HTTPField.Name(h.name) { headers[name] = h.value }
                }
                return Response(status: .upgradeRequired, headers: headers, body: .init(byteBuffer: ByteBuffer(string: raw.body)))
            }
        }
    }

    // MARK: helpers

    /// 426 with `Upgrade: websocket` (RFC 9110 §15.5.22) and the version this server speaks.
    static func upgradeRequired(path: String?) -> RawHTTPResponse {
        let what = path.map { "\($0) is a WebSocket endpoint" } ?? "this is not a WebSocket upgrade this server accepts"
        return .jsonError(
            status: 426, error: "upgrade-required",
            message: "\(what): send GET with Upgrade: websocket, Connection: Upgrade, Sec-WebSocket-Key and Sec-WebSocket-Version: 13 (a proxy in between may have dropped some of them)",
            headers: [.init("Upgrade", "websocket"), .init("Sec-WebSocket-Version", "13")])
    }

    /// Counts the attempt and, with a valid `?probe=` nonce, logs what arrived.
    static func record(_ state: ServerState, target: UpgradeTarget, fields: HTTPFields, upgrade: String?? = .none,
                       at: Date = Date(), outcome: String, status: Int) {
        state.metrics.handshake(outcome: outcome, status: status)
        guard let nonce = target.probe else { return }
        state.handshakeLog.record(
            nonce: nonce,
            HandshakeAttempt(fields: fields, path: target.path, upgrade: upgrade, at: at, outcome: outcome, status: status))
    }

    static func guardSettings(_ configuration: ServerConfiguration) -> WebSocketGuardSettings {
        var s = WebSocketGuardSettings()
        let ping = configuration.limits.pingInterval
        s.pingInterval = ping > 0 ? .nanoseconds(Int64(ping * 1e9)) : nil
        s.idleCut = configuration.fault { if case .idleCut(let d) = $0 { d } else { nil } }.map { .nanoseconds(Int64($0 * 1e9)) }
        s.dropClientPings = configuration.has(.noPong)
        s.dropAfterUpgrade = configuration.has(.dropAfterUpgrade)
        s.latency = configuration.fault { if case .latency(let d) = $0 { d } else { nil } }.map { .nanoseconds(Int64($0 * 1e9)) }
        return s
    }

    /// Publishing needs the publish token when one is set: `Authorization: Bearer` or `?token=`.
    static func mayPublish(_ request: HTTPRequest, target: UpgradeTarget, configuration: ServerConfiguration) -> Bool {
        guard let expected = configuration.publishToken else { return true }
        var presented = target.token
        if let auth = request.headerFields[.authorization], auth.lowercased().hasPrefix("bearer ") {
            presented = String(auth.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        }
        guard let presented else { return false }
        return AccessPolicy.constantTimeEqual(presented, expected)
    }
}
