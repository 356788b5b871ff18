import Diagnosis
import Foundation
import Testing
@testable import Probe

/// The proxy stage against a real CONNECT proxy on 127.0.0.1 that refuses, asks for
/// credentials, or tunnels.
@Suite("Proxy stage")
struct ProxyTests {
    private static let healthyBackend = FaultBehaviors.echoWebSocket

    @Test func healthyThroughTunnel() async throws {
        let report = try await FaultServer.with(Self.healthyBackend) { backend in
            try await FaultServer.with({ c in await c.actAsProxy(to: backend) }) { proxy in
                await diagnose("ws://127.0.0.1:\(backend)/ws") { $0.proxy = .explicit("http://127.0.0.1:\(proxy)") }
            }
        }
        expectCause(report, .healthy)
        #expect(stage(report, .proxy)?.status == .passed)
        #expect(stage(report, .resolve)?.status == .skipped)
    }

    @Test func credentialsFromTheProxyURLAreSentAndRedacted() async throws {
        let report = try await FaultServer.with(Self.healthyBackend) { backend in
            try await FaultServer.with({ c in await c.actAsProxy(to: backend, credentials: "alice:s3cret-pw") }) { proxy in
                await diagnose("ws://127.0.0.1:\(backend)/ws") { $0.proxy = .explicit("http://alice:s3cret-pw@127.0.0.1:\(proxy)") }
            }
        }
        expectCause(report, .healthy)
        #expect(!JSONReportRenderer.render(report).contains("s3cret-pw"))
    }

    @Test func missingCredentialsIsProxyAuthRequired() async throws {
        let report = try await FaultServer.with({ c in await c.actAsProxy(to: 1, credentials: "alice:pw") }) { proxy in
            await diagnose("ws://127.0.0.1:9/ws") { $0.proxy = .explicit("http://127.0.0.1:\(proxy)") }
        }
        expectCause(report, .proxyAuthRequired)
    }

    @Test func refusedTunnelIsProxyConnectDenied() async throws {
        let report = try await FaultServer.with({ c in await c.actAsProxy(to: 1, refuse: (403, "Forbidden")) }) { proxy in
            await diagnose("ws://127.0.0.1:9/ws") { $0.proxy = .explicit("http://127.0.0.1:\(proxy)") }
        }
        expectCause(report, .proxyConnectDenied)
        #expect(report.cause.data["status"]?.numberValue == 403)
    }

    @Test func closedProxyPortIsProxyUnreachable() async throws {
        let closed = try ClosedPort()
        let port = closed.port
        let report = await diagnose("ws://127.0.0.1:9/ws") { $0.proxy = .explicit("http://127.0.0.1:\(port)") }
        expectCause(report, .proxyUnreachable)
        withExtendedLifetime(closed) {}
    }

    @Test func environmentProxyIsUsedAndNoProxyBypassesIt() async throws {
        let closed = try ClosedPort()
        let port = closed.port
        let viaEnv = await diagnose("ws://127.0.0.1:9/ws") {
            $0.proxy = .environment
            $0.environment = ["HTTP_PROXY": "http://127.0.0.1:\(port)"]
        }
        expectCause(viaEnv, .proxyUnreachable)
        #expect(stage(viaEnv, .proxy)?.summary.contains("HTTP_PROXY") == true)
        let bypassed = await diagnose("ws://127.0.0.1:\(port)/ws") {
            $0.proxy = .environment
            $0.environment = ["HTTP_PROXY": "http://127.0.0.1:\(port)", "NO_PROXY": "localhost,127.0.0.1"]
        }
        expectCause(bypassed, .connectionRefused)
        withExtendedLifetime(closed) {}
    }
}
