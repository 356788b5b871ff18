import Diagnosis
import Foundation
import Testing
@testable import Probe

/// A hostile or broken peer cannot make the command hang or grow: every case ends
/// within the stage timeout with a finding, and the real binary's peak memory stays small.
@Suite("Hostile peers")
struct HostilePeerTests {
    /// Comfortably above a normal run (~15–25 MB) and far below what any flood would cost.
    static let memoryCeiling = 80 * 1024 * 1024

    static let endlessHeaders: FaultBehavior = { c in
        _ = await c.readRequest()
        await c.send("HTTP/1.1 101 Switching Protocols\r\n")
        let line = String(repeating: "X-Filler: " + String(repeating: "a", count: 100) + "\r\n", count: 100)
        for _ in 0..<20_000 {  // up to ~220 MB, stops as soon as the client goes away
            guard c.channel.isActive, !Task.isCancelled else { break }
            await c.send(line)
        }
    }

    static let gigabyteFrame: FaultBehavior = { c in
        guard let req = await c.readRequest() else { return }
        await c.upgrade(req)
        await c.sendFrame(opcode: 0x2, payload: [], declaredLength: 1 << 30)
        let chunk = [UInt8](repeating: 0x42, count: 64 * 1024)
        for _ in 0..<16_384 {  // would be the whole GiB if the client kept reading
            guard c.channel.isActive, !Task.isCancelled else { break }
            await c.send(bytes: chunk)
        }
    }

    static let trickle: FaultBehavior = { c in
        _ = await c.readRequest()
        for byte in "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n".utf8 {
            guard c.channel.isActive, !Task.isCancelled else { break }
            await c.send(bytes: [byte])
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    @Test func endlessHeadersStopAtTheHeadLimit() async throws {
        let report = try await FaultServer.with(Self.endlessHeaders) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 3) { $0.health = .none }
        }
        expectCause(report, .notHTTP)
        #expect(report.cause.data["headBytes"] != nil)
        #expect(report.durationMs < 6000)
    }

    @Test func gigabyteFrameIsRefusedAtItsHeader() async throws {
        let report = try await FaultServer.with(Self.gigabyteFrame) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 3) { $0.health = .none }
        }
        expectCause(report, .protocolViolation)
        #expect(report.cause.data["rule"]?.stringValue == "frame-too-large")
    }

    @Test func oneBytePerTickEndsWithinTheTimeout() async throws {
        let report = try await FaultServer.with(Self.trickle) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 1) { $0.health = .none }
        }
        expectCause(report, .handshakeTimeout)
        #expect((report.cause.data["bytesReceived"]?.numberValue ?? 0) > 0)
        // The stage budget bounds the wait even though bytes keep arriving.
        #expect(report.durationMs < 4000)
    }

    @Test(arguments: ["endless-headers", "gigabyte-frame"])
    func floodsKeepTheBinarysMemoryBounded(flood: String) async throws {
        let behavior = flood == "endless-headers" ? Self.endlessHeaders : Self.gigabyteFrame
        let run = try await FaultServer.with(behavior) { port in
            try await ChildProcess.runWSDoctor(["diagnose", "ws://127.0.0.1:\(port)/ws", "--timeout", "3s",
                                                "--health", "none", "--format", "json"])
        }
        #expect(run.status == 1)
        #expect(run.stdout.contains("\"schema\""))
        #expect(run.peakRSSBytes > 0 && run.peakRSSBytes < Self.memoryCeiling,
                "peak RSS \(run.peakRSSBytes / 1024 / 1024) MB")
    }
}

/// Hostile HTTP bodies on the plain-HTTP checks (health, discovery, fallback).
@Suite("Hostile HTTP answers")
struct HostileHTTPTests {
    @Test(arguments: ["Content-Length: -1", "Content-Length: 99999999999999999999", "Transfer-Encoding: chunked"])
    func brokenBodyFramingNeverCrashes(header: String) async throws {
        let report = try await FaultServer.with({ c in
            guard let req = await c.readRequest() else { return }
            if req.isUpgrade {
                await c.upgrade(req)
                return await c.serveWebSocket()
            }
            let body = header.hasPrefix("Transfer") ? "7fffffffffffffff\r\nabc" : "{}"
            await c.send("HTTP/1.1 200 OK\r\n\(header)\r\n\r\n\(body)")
            await c.close()
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .healthy)
    }
}
