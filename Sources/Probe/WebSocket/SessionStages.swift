import Diagnosis
import Foundation
import NIOCore
import NIOWebSocket

/// The exchange, idle and close stages on an upgraded connection.
enum SessionStages {
    static func exchange(_ session: WebSocketSession, options: ProbeOptions,
                         progress: @Sendable (ProbeProgress) -> Void) async -> ExchangeEvidence {
        progress(.stageStarted(.exchange, detail: "ping/pong round trip"))
        var ev = ExchangeEvidence()
        let started = ContinuousClock.now
        defer { ev.serverPings = session.serverPings }

        // ping / pong
        let payload = "wsdoctor-\(UInt32.random(in: 0...UInt32.max))"
        let pingSent = ContinuousClock.now
        do { try await session.send(.ping, ByteBuffer(string: payload)) } catch {}
        let pingDeadline = ContinuousClock.Instant.after(seconds: options.timeout)
        waitPong: while true {
            switch await session.next(until: pingDeadline) {
            case .message(.pong(let p)) where String(buffer: p) == payload:
                ev.pingRoundTripMs = pingSent.elapsedMs
                break waitPong
            case .message(.text), .message(.binary):
                ev.unsolicitedMessages += 1
            case .message(.close), .ended:
                ev.end = session.ended
                break waitPong
            case .message:
                continue
            case .timeout:
                ev.pingTimedOut = true
                break waitPong
            }
        }

        // --send / --expect
        if session.ended == nil, let text = options.sendText {
            ev.sentText = text
            let regex = options.expectPattern.flatMap { try? NSRegularExpression(pattern: $0) }
            let sent = ContinuousClock.now
            do { try await session.sendText(text) } catch {}
            let deadline = ContinuousClock.Instant.after(seconds: options.timeout)
            waitReply: while true {
                switch await session.next(until: deadline) {
                case .message(.text(let reply)):
                    ev.reply = String(reply.prefix(4096))
                    let matched = regex.map {
                        $0.firstMatch(in: reply, range: NSRange(reply.startIndex..., in: reply)) != nil
                    } ?? true
                    if matched {
                        ev.replyMatched = true
                        ev.replyRoundTripMs = sent.elapsedMs
                        break waitReply
                    }
                    ev.replyMatched = false
                case .message(.close), .ended:
                    ev.end = session.ended
                    break waitReply
                case .message:
                    continue
                case .timeout:
                    ev.replyTimedOut = true
                    break waitReply
                }
            }
        }
        ev.end = session.ended
        ev.durationMs = started.elapsedMs
        let ok = ev.end == nil && !ev.pingTimedOut && !ev.replyTimedOut && ev.replyMatched != false
        progress(.stageFinished(.exchange, ok: ok, durationMs: ev.durationMs,
                                detail: ev.pingRoundTripMs.map { String(format: "pong in %.1f ms", $0) } ?? "no pong"))
        return ev
    }

    static func idle(_ session: WebSocketSession, seconds: Double,
                     progress: @Sendable (ProbeProgress) -> Void) async -> IdleEvidence {
        progress(.stageStarted(.idle, detail: "holding the connection silent for \(DurationText.format(seconds: seconds))"))
        var ev = IdleEvidence(requestedSeconds: seconds)
        let started = ContinuousClock.now
        let end = ContinuousClock.Instant.after(seconds: seconds)
        var nextTick = ContinuousClock.now + .seconds(1)
        hold: while ContinuousClock.now < end {
            switch await session.next(until: min(nextTick, end)) {
            case .timeout:
                let elapsed = started.elapsedMs / 1000
                progress(.idleTick(elapsedSeconds: elapsed, totalSeconds: seconds, serverPings: session.serverPings))
                nextTick = ContinuousClock.now + .seconds(1)
            case .message(.text), .message(.binary):
                ev.messagesReceived += 1
            case .message(.close), .ended:
                ev.end = session.ended
                ev.silentSecondsAtEnd = session.lastTraffic.elapsedMs / 1000
                break hold
            case .message:
                continue
            }
        }
        ev.serverPings = session.serverPings
        ev.heldSeconds = started.elapsedMs / 1000
        progress(.stageFinished(.idle, ok: ev.end == nil, durationMs: started.elapsedMs,
                                detail: ev.end == nil ? "still open" : "cut after \(DurationText.format(seconds: ev.heldSeconds))"))
        return ev
    }

    static func close(_ session: WebSocketSession, timeout: Double,
                      progress: @Sendable (ProbeProgress) -> Void) async -> CloseEvidence {
        progress(.stageStarted(.close, detail: "close handshake"))
        let started = ContinuousClock.now
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        let eofDeadline = ContinuousClock.Instant.after(seconds: min(timeout, 2))
        var ev: CloseEvidence
        switch session.ended {
        case nil:
            // We close, as a browser's ws.close() does, and wait for the server's answer.
            try? await session.sendClose(code: 1000, reason: "wsdoctor: done")
            ev = CloseEvidence(initiatedBy: .client, code: 1000, reason: "wsdoctor: done", clean: false)
            var answered = false
            waitClose: while true {
                switch await session.next(until: deadline) {
                case .message(.close(let code, let reason)):
                    answered = true
                    ev.code = code ?? 1005
                    ev.reason = reason
                    break waitClose
                case .message: continue
                case .ended, .timeout: break waitClose
                }
            }
            ev.unanswered = !answered
            if answered { ev.clean = await session.waitForEOF(until: eofDeadline) }
        case .closeFrame(let code, let reason, _):
            // The server closed first; answer as RFC 6455 §5.5.1 asks and wait for TCP to end.
            var payload = ByteBuffer()
            if let code, let c = UInt16(exactly: code) { payload.writeInteger(c) }
            try? await session.send(.connectionClose, payload)
            ev = CloseEvidence(initiatedBy: .server, code: code ?? 1005, reason: reason, clean: false)
            ev.clean = await session.waitForEOF(until: eofDeadline)
        case .violation(let rule, _, _):
            try? await session.sendClose(code: 1002, reason: "protocol error: \(rule)")
            ev = CloseEvidence(initiatedBy: .client, code: 1002, reason: "protocol error: \(rule)", clean: false)
        case .eof, .reset:
            ev = CloseEvidence(initiatedBy: .none, code: 1006, reason: "connection ended without a close frame", clean: false)
        }
        ev.durationMs = started.elapsedMs
        progress(.stageFinished(.close, ok: ev.clean, durationMs: ev.durationMs,
                                detail: ev.code.map { "code \($0)" } ?? ""))
        return ev
    }
}
