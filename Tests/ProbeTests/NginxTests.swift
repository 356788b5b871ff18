import Diagnosis
import Foundation
import Testing
@testable import Probe

/// The probe against a real nginx reverse proxy in front of a WebSocket backend on
/// 127.0.0.1: the setups users actually deploy, right and wrong.
@Suite("Real nginx in front of a WebSocket server")
struct NginxTests {
    /// A backend that upgrades WebSocket requests and answers a plain GET of /ws with 426,
    /// as real WebSocket servers do when the upgrade headers did not arrive.
    static let backend = FaultBehaviors.echoWebSocket

    @Test func nginxConfiguredForWebSocketIsHealthy() async throws {
        let report = try await FaultServer.with(Self.backend) { backend in
            try await Nginx.with(backendPort: backend, location: Nginx.webSocketProxying) { port in
                await diagnose("ws://127.0.0.1:\(port)/ws")
            }
        }
        expectCause(report, .healthy)
        #expect(stage(report, .handshake)?.status == .passed)
        #expect(stage(report, .exchange)?.status == .passed)
        #expect(report.transcript.response?.hasPrefix("HTTP/1.1 101") == true)
        #expect(report.transcript.response?.contains("Server: nginx") == true, "the 101 came through nginx")
        #expect(report.close.clean)
    }

    @Test func nginxWithoutUpgradeHeadersIsUpgradeHeadersStripped() async throws {
        let report = try await FaultServer.with(Self.backend) { backend in
            // proxy_pass alone: nginx drops the hop-by-hop Upgrade/Connection headers.
            try await Nginx.with(backendPort: backend) { port in
                await diagnose("ws://127.0.0.1:\(port)/ws")
            }
        }
        expectCause(report, .upgradeHeadersStripped)
        #expect(report.cause.data["status"]?.numberValue == 426)
        let text = ([report.cause.summary] + report.cause.evidence).joined(separator: "\n")
        #expect(text.lowercased().contains("nginx"), "summary/evidence should name nginx: \(text)")
        #expect(report.cause.fixes.joined().contains("proxy_set_header Upgrade"), "fixes: \(report.cause.fixes)")
    }

    @Test func nginxReadTimeoutIsIdleTimeout() async throws {
        let report = try await FaultServer.with(Self.backend) { backend in
            try await Nginx.with(backendPort: backend, location: Nginx.webSocketProxying + ["proxy_read_timeout 2s;"]) { port in
                await diagnose("ws://127.0.0.1:\(port)/ws") { $0.idle = 5 }
            }
        }
        expectCause(report, .idleTimeout)
        let seconds = try #require(report.cause.data["seconds"]?.numberValue)
        #expect((1.5...3.5).contains(seconds), "nginx cuts after proxy_read_timeout 2s; measured \(seconds) s")
        #expect(stage(report, .idle)?.status == .failed)
    }
}
