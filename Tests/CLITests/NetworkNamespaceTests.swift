import Foundation
import Testing

/// Causes that need a network the test controls: the real binary runs inside a network
/// namespace made for the test (only `lo`, its own resolver), or against a local socket
/// that drops connection attempts. Needs root and `ip`; fails saying so otherwise.
@Suite("Network causes, reproduced in network namespaces")
struct NetworkNamespaceTests {
    /// The namespace has only loopback, so there is no route to any other address: the
    /// connect fails at once with ENETUNREACH and no packet leaves the namespace.
    @Test func noRouteIsNetworkUnreachable() async throws {
        let run = try await NetworkNamespace.with { ns in
            try await ns.wsdoctor(["diagnose", "ws://192.0.2.10/ws", "--format", "json", "--timeout", "3s"])
        }
        let report = try Self.report(run, cause: "network-unreachable")
        #expect(Self.stageStatus(report, "connect") == "failed")
    }

    /// The resolver is 127.0.0.1 inside the namespace, where nothing listens on port 53:
    /// the query is refused, getaddrinfo gives EAI_AGAIN.
    @Test func deadResolverIsDNSFailure() async throws {
        let run = try await NetworkNamespace.with { ns in
            try ns.useResolver("127.0.0.1")
            return try await ns.wsdoctor(["diagnose", "ws://ws.wsdoctor.test/ws", "--format", "json", "--timeout", "3s"])
        }
        let report = try Self.report(run, cause: "dns-failure")
        #expect(Self.stageStatus(report, "resolve") == "failed")
        #expect(Self.stageStatus(report, "connect") == "skipped")
    }

    /// A DNS server inside the namespace answers NXDOMAIN to every query, as the authority
    /// does for a name that does not exist.
    @Test func nxdomainIsDNSNoSuchHost() async throws {
        let (run, answered) = try await NetworkNamespace.with { ns in
            try ns.useResolver("127.0.0.1")
            let dns = try await NXDomainResponder.start(in: ns)
            let run = try await ns.wsdoctor(["diagnose", "ws://ws.wsdoctor.test/ws", "--format", "json", "--timeout", "3s"])
            await dns.stop()
            return (run, dns.queriesAnswered)
        }
        let report = try Self.report(run, cause: "dns-no-such-host")
        #expect(answered > 0, "the query never reached the namespace's DNS server")
        #expect(Self.stageStatus(report, "resolve") == "failed")
    }

    /// A listener whose accept queue is full makes Linux drop further SYNs without an answer,
    /// as a firewall DROP rule does; connecting times out. This needs no namespace: it is
    /// reliable on 127.0.0.1 in the root namespace (a `blackhole` route would fail at once
    /// with an error instead, and is not a timeout).
    @Test func droppedSYNsAreConnectTimeout() async throws {
        let listener = try UnacceptingListener()
        defer { listener.close() }
        try await listener.waitUntilFull()
        let started = ContinuousClock.now
        let run = try await WSDoctorBinary.run(
            ["diagnose", "ws://127.0.0.1:\(listener.port)/ws", "--format", "json", "--timeout", "1s"], timeout: 30)
        let elapsed = ContinuousClock.now - started
        let report = try Self.report(run, cause: "connect-timeout")
        let data = try #require(report["cause"] as? [String: Any])["data"] as? [String: Any]
        #expect(data?["port"] as? Int == listener.port)
        // It really waited for the attempt (no early error), and --timeout 1s bounded the wait.
        #expect(elapsed >= .milliseconds(900) && elapsed < .seconds(10), "took \(elapsed) with --timeout 1s")
    }

    /// Parses the JSON report, checks exit status 1, the cause and its required data.
    static func report(_ run: CommandResult, cause: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let object = try #require(try? JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                  "not a JSON report (exit \(run.status)): \(run.stdout.prefix(400)) stderr: \(run.stderr.prefix(400))",
                                  sourceLocation: sourceLocation)
        let found = try #require(object["cause"] as? [String: Any], sourceLocation: sourceLocation)
        #expect(found["id"] as? String == cause, "cause: \(found["id"] ?? "-"): \(found["summary"] ?? "")", sourceLocation: sourceLocation)
        #expect(run.status == 1, "exit status \(run.status), stderr: \(run.stderr.prefix(400))", sourceLocation: sourceLocation)
        #expect(object["outcome"] as? String == "failed", sourceLocation: sourceLocation)
        if cause == "connect-timeout" || cause == "connection-refused" {
            #expect((found["data"] as? [String: Any])?["port"] is Int, "data.port missing", sourceLocation: sourceLocation)
        }
        return object
    }

    static func stageStatus(_ report: [String: Any], _ name: String) -> String? {
        (report["stages"] as? [[String: Any]])?.first { $0["name"] as? String == name }?["status"] as? String
    }
}
