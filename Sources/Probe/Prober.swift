import Diagnosis
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOWebSocket

/// Runs the stages of `../shared/spec/diagnosis.md` against one endpoint and returns
/// what it observed. It decides nothing: `Diagnoser` turns the evidence into a cause.
public struct Prober: Sendable {
    public let options: ProbeOptions
    let progress: @Sendable (ProbeProgress) -> Void

    public init(options: ProbeOptions, progress: @escaping @Sendable (ProbeProgress) -> Void = { _ in }) {
        self.options = options
        self.progress = progress
    }

    public func run() async -> Evidence {
        let clock = ContinuousClock.now
        var evidence = Evidence(settings: options.settingsSummary, startedAt: Date())
        await runStages(&evidence)
        evidence.durationMs = clock.elapsedMs
        return evidence
    }

    private func runStages(_ evidence: inout Evidence) async {
        // target
        let target: Target
        do { target = try Target.parse(options.url) } catch {
            evidence.targetError = error.description
            return
        }
        evidence.target = target

        // proxy selection and trust roots: configuration errors end the probe at `target`
        let proxy: ProxyConfig?
        do {
            proxy = try ProxySelection.select(for: target, setting: options.proxy, environment: options.environment)
        } catch {
            evidence.targetError = error.description
            return
        }
        var tls: TLSBridge?
        if target.secure {
            do { tls = try await TLSBridge.make(caFile: options.caFile, insecure: options.insecure) } catch {
                evidence.targetError = "\(error)"
                return
            }
        }
        let dialer = Dialer(target: target, timeout: options.timeout, proxy: proxy,
                            group: MultiThreadedEventLoopGroup.singleton, tls: tls)
        var firstDial: DialRecord?
        func note(_ record: DialRecord) -> Bool {
            if firstDial == nil {
                firstDial = record
                apply(record, to: &evidence)
                reportDialProgress(record)
            }
            return record.failedStage == nil
        }

        // health
        if options.health != .none {
            progress(.stageStarted(.health, detail: "plain HTTP request to the service"))
            var health = HealthEvidence()
            let started = ContinuousClock.now
            for (checkDialer, path, url) in healthTargets(target: target, dialer: dialer, proxy: proxy, tls: tls) {
                let (check, record) = await HTTPGetter.get(checkDialer, path: path, url: url)
                if checkDialer === dialer, !note(record) {
                    evidence.health = nil
                    return
                }
                health.checks.append(check)
                if (check.response?.status ?? 0) / 100 == 2 { break }
            }
            evidence.health = health
            progress(.stageFinished(.health, ok: health.healthy != nil, durationMs: started.elapsedMs,
                                    detail: health.healthy?.response.map { "\($0.status) \($0.reason)" } ?? "no healthy answer"))
        } else {
            progress(.stageSkipped(.health))
        }

        // discovery of a wsdoctor server (for the fallback stage and the server's view of our handshake)
        var fallback = FallbackEvidence()
        var transports: Discovery.Transports?
        if options.sseURL == nil || options.pollURL == nil {
            let (check, record) = await HTTPGetter.get(dialer, path: "/api/realtime", url: target.httpURL(path: "/api/realtime"))
            if !note(record) { return }
            fallback.discovery = check
            if check.response?.status == 200, let body = check.bodySnippet, let found = Discovery.parse(body) {
                fallback.discovered = true
                transports = found
            }
        }

        // handshake, exchange, idle, close — on one connection
        let nonce = fallback.discovered ? Self.nonce() : nil
        var path = target.path
        if let nonce { path += (path.contains("?") ? "&" : "?") + "probe=" + nonce }
        progress(.stageStarted(.handshake, detail: "GET \(target.pathOnly) with Upgrade: websocket"))
        var sessionOptions = options
        if sessionOptions.sendText == nil, let transports, let echo = Self.echoProbe(path: target.pathOnly, transports: transports) {
            // A wsdoctor server echoes: measure a message round trip, not only ping/pong.
            sessionOptions.sendText = echo.send
            sessionOptions.expectPattern = echo.expect
            evidence.settings.sendText = echo.send
            evidence.settings.expectPattern = echo.expect
        }
        let session = await handshakeAndSession(dialer: dialer, target: target, path: path, origin: options.origin,
                                                live: true, options: sessionOptions)
        if !note(session.record) { return }
        evidence.handshake = session.handshake
        evidence.exchange = session.exchange
        evidence.idle = session.idle
        evidence.close = session.close

        // confirmations before accusing
        if let response = session.handshake?.response, response.status != 101 {
            if response.status == 403, options.origin != nil {
                let retry = await handshakeAndSession(dialer: dialer, target: target, path: target.path, origin: nil, live: false)
                evidence.confirmations.withoutOrigin = retry.handshake
            }
            if [400, 426].contains(response.status) || response.status / 100 == 5 {
                let (check, _) = await HTTPGetter.get(dialer, path: target.path, url: target.httpURL(path: target.path),
                                                      options: .init(headers: options.headers, maxBody: 2048))
                evidence.confirmations.plainGet = check
            }
        }
        if !target.secure, let failure = session.handshake?.failure {
            switch failure {
            case .tlsAnswer, .closed(0), .reset(0), .timeout(0):
                evidence.confirmations.speaksTLS = await TLSSniff.speaksTLS(dialer: dialer, target: target)
            default: break
            }
        }
        if let nonce, session.handshake?.response?.status != 101 || session.handshake?.response == nil {
            let logPath = "/api/handshakes?probe=\(nonce)"
            let (check, _) = await HTTPGetter.get(dialer, path: logPath, url: target.httpURL(path: logPath))
            if check.response?.status == 200, let body = check.bodySnippet {
                evidence.confirmations.serverView = Discovery.parseHandshakeLog(body)
            }
        }

        // fallback
        let sseURL = options.sseURL ?? transports.map { target.httpURL(path: $0.sse + "?sub=wsdoctor-probe") }
        let pollURL = options.pollURL ?? transports.map { target.httpURL(path: $0.poll + "?sub=wsdoctor-probe&timeout=0") }
        if sseURL != nil || pollURL != nil {
            progress(.stageStarted(.fallback, detail: "Server-Sent Events and long-polling"))
            let started = ContinuousClock.now
            if let sseURL { fallback.sse = await FallbackChecks.sse(url: sseURL, base: dialer, proxy: proxy, tls: tls) }
            if let pollURL { fallback.poll = await FallbackChecks.poll(url: pollURL, base: dialer, proxy: proxy, tls: tls) }
            fallback.durationMs = started.elapsedMs
            let works = (fallback.sse?.works ?? false) || (fallback.poll?.works ?? false)
            progress(.stageFinished(.fallback, ok: works, durationMs: fallback.durationMs,
                                    detail: works ? "a fallback transport works" : "no fallback transport works"))
        }
        if fallback.discovery != nil || fallback.sse != nil || fallback.poll != nil { evidence.fallback = fallback }
    }

    private func apply(_ record: DialRecord, to evidence: inout Evidence) {
        evidence.proxy = record.proxy
        evidence.resolve = record.resolve
        evidence.connect = record.connect
        evidence.tls = record.tls
    }

    private func reportDialProgress(_ record: DialRecord) {
        if let p = record.proxy {
            progress(.stageFinished(.proxy, ok: record.failedStage != .proxy, durationMs: p.durationMs, detail: p.url))
        }
        if let r = record.resolve {
            progress(.stageFinished(.resolve, ok: r.failure == nil, durationMs: r.durationMs,
                                    detail: (r.ipv4 + r.ipv6).joined(separator: ", ")))
        }
        if let c = record.connect {
            progress(.stageFinished(.connect, ok: c.connectedAddress != nil, durationMs: c.durationMs,
                                    detail: c.connectedAddress ?? "failed"))
        }
        if let t = record.tls {
            progress(.stageFinished(.tls, ok: record.failedStage != .tls, durationMs: t.durationMs, detail: t.version ?? ""))
        }
    }

    private func healthTargets(target: Target, dialer: Dialer, proxy: ProxyConfig?, tls: TLSBridge?)
        -> [(Dialer, String, String)]
    {
        switch options.health {
        case .none: return []
        case .auto:
            return ["/api/health", "/health", "/healthz"].map { (dialer, $0, target.httpURL(path: $0)) }
        case .url(let url):
            guard let other = try? Target.parse(url) else { return [] }
            let same = other.host == target.host && other.port == target.port && other.secure == target.secure
            let d = same ? dialer : Dialer(target: other, timeout: options.timeout, proxy: proxy,
                                            group: MultiThreadedEventLoopGroup.singleton, tls: tls)
            return [(d, other.path, url)]
        }
    }

    /// The message that makes a wsdoctor endpoint answer: text echo on `/echo`, the
    /// protocol's `echo` op on the realtime path.
    static func echoProbe(path: String, transports: Discovery.Transports) -> (send: String, expect: String)? {
        let token = nonce()
        if path == "/echo" { return (token, "^\(token)$") }
        if path == transports.websocket {
            return (#"{"op":"echo","id":"wsdoctor","data":"\#(token)"}"#, #""op"\s*:\s*"echo".*\#(token)"#)
        }
        return nil
    }

    static func nonce() -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        return "wsd-" + String((0..<20).map { _ in alphabet.randomElement()! })
    }

    struct SessionOutcome: Sendable {
        var record: DialRecord
        var handshake: HandshakeEvidence?
        var exchange: ExchangeEvidence?
        var idle: IdleEvidence?
        var close: CloseEvidence?
    }

    /// Opens a connection, sends the upgrade, and when `live` and upgraded, runs the
    /// exchange, idle and close stages on it.
    private func handshakeAndSession(dialer: Dialer, target: Target, path: String, origin: String?, live: Bool,
                                     options: ProbeOptions? = nil) async -> SessionOutcome
    {
        let options = options ?? self.options
        let silent: @Sendable (ProbeProgress) -> Void = { _ in }
        let progress = live ? self.progress : silent
        let (record, value) = await dialer.withConnection { connection in
            try await Self.session(on: connection, target: target, path: path, origin: origin, live: live,
                                   options: options, progress: progress)
        }
        var outcome = value ?? SessionOutcome(record: record)
        outcome.record = record
        return outcome
    }

    private static func session(on connection: Connection, target: Target, path: String, origin: String?, live: Bool,
                                options: ProbeOptions, progress: @escaping @Sendable (ProbeProgress) -> Void)
        async throws -> SessionOutcome
    {
        var outcome = SessionOutcome(record: DialRecord())
        let request = HandshakeRequest(
            path: path, hostHeader: target.hostHeader, origin: origin, subprotocols: options.subprotocols,
            extensions: [], extraHeaders: options.headers)
        var handshake = HandshakeEvidence(
            request: request.text, key: request.key, expectedAccept: request.expectedAccept,
            offeredSubprotocols: options.subprotocols, offeredExtensions: [], origin: origin)
        let started = ContinuousClock.now
        try await connection.write(request.text)
        var parser = ResponseHeadParser()
        let deadline = ContinuousClock.Instant.after(seconds: options.timeout)
        let read = await connection.readResponseHead(until: deadline, parser: &parser)
        handshake.durationMs = started.elapsedMs
        var leftover: [UInt8] = []
        switch read {
        case .failed(let failure, _):
            handshake.failure = failure
        case .head(let head, let rest):
            handshake.response = head
            leftover = rest
            if head.status != 101 {
                handshake.bodySnippet = await Self.readSnippet(connection, leftover: rest, head: head)
            }
        }
        outcome.handshake = handshake
        progress(.stageFinished(.handshake, ok: handshake.response?.status == 101, durationMs: handshake.durationMs,
                                detail: handshake.response.map { "\($0.status) \($0.reason)" } ?? "no HTTP answer"))
        guard live, let head = handshake.response, head.status == 101 else { return outcome }
        let extensions = head.headerTokens("Sec-WebSocket-Extensions")
        let session = try await WebSocketSession.start(connection: connection, leftover: leftover,
                                                       maxFrameSize: options.maxFrameSize, extensions: extensions)
        outcome.exchange = await SessionStages.exchange(session, options: options, progress: progress)
        if options.idle > 0 {
            if session.ended == nil {
                outcome.idle = await SessionStages.idle(session, seconds: options.idle, progress: progress)
            } else {
                progress(.stageSkipped(.idle))
            }
        }
        outcome.close = await SessionStages.close(session, timeout: options.timeout, progress: progress)
        await session.finish()
        return outcome
    }

    /// Up to 2 KiB of a refusal's body: error pages name the software that refused.
    private static func readSnippet(_ connection: Connection, leftover: [UInt8], head: ResponseHead) async -> String? {
        var bytes = leftover
        let length = head.header("Content-Length").flatMap { Int($0) }.flatMap { $0 >= 0 ? $0 : nil } ?? 2048
        let want = min(2048, length)
        let deadline = ContinuousClock.Instant.after(seconds: 0.5)
        while bytes.count < want {
            guard case .data(var b) = await connection.read(until: deadline) else { break }
            bytes += b.readBytes(length: b.readableBytes) ?? []
        }
        let text = String(decoding: bytes.prefix(2048), as: UTF8.self)
        return text.isEmpty ? nil : text
    }
}
