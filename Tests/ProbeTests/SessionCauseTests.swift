import Diagnosis
import Foundation
import Testing
@testable import Probe

/// Causes that appear after the upgrade: frames, closes, silence.
@Suite("Session causes, reproduced")
struct SessionCauseTests {
    private func afterUpgrade(_ then: @escaping @Sendable (FaultConnection) async -> Void) -> FaultBehavior {
        { c in
            await c.serveLikeAnApp { req in
                await c.upgrade(req)
                await then(c)
            }
        }
    }

    @Test func dropAfterUpgradeIsAbnormalClosure() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in await c.close() }) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws")
        }
        expectCause(report, .abnormalClosure)
        #expect(report.close.clean == false)
        #expect(report.close.code == 1006)
    }

    @Test func policyCloseIsClosedByServer() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in
            await c.sendClose(code: 1008, reason: "token expired")
            _ = await c.readFrame(timeout: 2)
            await c.close()
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .closedByServer)
        #expect(report.cause.data["code"]?.numberValue == 1008)
        #expect(report.cause.data["reason"]?.stringValue == "token expired")
        #expect(report.close.initiatedBy == "server")
    }

    @Test func ignoredPingIsPingUnanswered() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in
            await c.serveWebSocket(answerPings: false)
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 0.5) }
        expectCause(report, .pingUnanswered)
    }

    @Test func noReplyToSendIsMessageTimeout() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in
            // Answers pings and closes, but never replies to text.
            while let frame = await c.readFrame(timeout: 5) {
                if frame.opcode == .ping {
                    var data = frame.unmaskedData
                    await c.sendFrame(opcode: 0xA, payload: data.readBytes(length: data.readableBytes) ?? [])
                }
                if frame.opcode == .connectionClose { await c.sendClose(code: 1000); break }
            }
            await c.close()
        }) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws", timeout: 0.5) { $0.sendText = "hello"; $0.expectPattern = "hel+o" }
        }
        expectCause(report, .messageTimeout)
    }

    @Test func echoMatchingExpectIsHealthy() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in await c.serveWebSocket() }) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws") { $0.sendText = "hello"; $0.expectPattern = "^hel+o$" }
        }
        expectCause(report, .healthy)
    }

    @Test func silentCutIsIdleTimeoutWithMeasuredSeconds() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in
            await c.serveWebSocket(idleCut: 1.5)
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") { $0.idle = 4 } }
        expectCause(report, .idleTimeout)
        let seconds = try #require(report.cause.data["seconds"]?.numberValue)
        #expect(seconds >= 1.3 && seconds <= 2.5, "measured \(seconds)")
        #expect(report.cause.fixes.first?.contains("ping") == true)
    }

    @Test func idleHoldThatSurvivesIsHealthy() async throws {
        let report = try await FaultServer.with(afterUpgrade { c in await c.serveWebSocket() }) { port in
            await diagnose("ws://127.0.0.1:\(port)/ws") { $0.idle = 1.2 }
        }
        expectCause(report, .healthy)
        #expect(stage(report, .idle)?.status == .passed)
    }

    /// Frames that break RFC 6455, one per rule the probe names.
    enum BrokenFrame: String, CaseIterable, Sendable {
        case maskedFrame = "masked-frame"
        case reservedBits = "reserved-bits"
        case badOpcode = "bad-opcode"
        case invalidUTF8 = "invalid-utf8"
        case fragmentedControlFrame = "fragmented-control-frame"
        case badCloseCode = "bad-close-code"
        case unexpectedContinuation = "unexpected-continuation"
        case controlFrameTooLong = "control-frame-too-long"

        func send(on c: FaultConnection) async {
            switch self {
            case .maskedFrame: await c.sendFrame(opcode: 0x1, payload: Array("hi".utf8), mask: [1, 2, 3, 4])
            case .reservedBits: await c.sendFrame(opcode: 0x1, payload: Array("hi".utf8), rsv: 0b010)
            case .badOpcode: await c.sendFrame(opcode: 0x3, payload: [])
            case .invalidUTF8: await c.sendFrame(opcode: 0x1, payload: [0xC3, 0x28])
            case .fragmentedControlFrame: await c.sendFrame(opcode: 0x9, payload: [], fin: false)
            case .badCloseCode: await c.sendFrame(opcode: 0x8, payload: [0x03, 0xED])  // 1005 may not be sent
            case .unexpectedContinuation: await c.sendFrame(opcode: 0x0, payload: [0x41])
            case .controlFrameTooLong: await c.sendFrame(opcode: 0x9, payload: [UInt8](repeating: 0x61, count: 126))
            }
        }
    }

    @Test(arguments: BrokenFrame.allCases)
    func brokenFramesAreProtocolViolations(frame: BrokenFrame) async throws {
        let report = try await FaultServer.with(afterUpgrade { c in
            await frame.send(on: c)
            _ = await c.readFrame(timeout: 3)
            await c.close()
        }) { port in await diagnose("ws://127.0.0.1:\(port)/ws") }
        expectCause(report, .protocolViolation)
        #expect(report.cause.data["rule"]?.stringValue == frame.rawValue)
    }
}
