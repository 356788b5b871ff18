import Testing

@Suite struct TransportSwitchProbeTests {
    @Test(arguments: [false, true]) func wsUpgrade(rate: Bool) async throws {
        try await TestServer.with({ if rate { $0.limits.publishRate = 100_000 } }) { server in
            try await WSReal.connect(server.ws + "/ws") { messages, _ in
                _ = try await messages.json()
            }
        }
    }
    @Test func wsUpgradeInGroup() async throws {
        try await TestServer.with { server in
            let (gate, open) = AsyncStream.makeStream(of: Void.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in gate { break } }
                defer { open.finish() }
                try await WSReal.connect(server.ws + "/ws") { messages, _ in
                    _ = try await messages.json()
                    open.yield()
                }
                try await group.waitForAll()
            }
        }
    }
}
