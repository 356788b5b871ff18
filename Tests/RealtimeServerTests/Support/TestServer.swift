import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import NIOCore
import RealtimeServer
import ServiceLifecycle

/// The real `wsdoctor serve` application on 127.0.0.1 (a free port), for the duration
/// of `body`; shut down gracefully afterwards, as SIGTERM would.
enum TestServer {
    static func with<T: Sendable>(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (_ server: RunningServer) async throws -> T
    ) async throws -> T {
        try await withShutdown(configure) { server, _ in try await body(server) }
    }

    /// Like `with`, but the test may shut the server down gracefully itself (as SIGTERM
    /// would) to watch streams, held polls and WebSockets end.
    static func withShutdown<T: Sendable>(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (_ server: RunningServer, _ shutdown: @escaping @Sendable () async -> Void) async throws -> T
    ) async throws -> T {
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = 0
        configuration.dataDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)", isDirectory: true)
        configure(&configuration)
        var logger = Logger(label: "test.serve")
        logger.logLevel = .error
        let (ports, portReady) = AsyncStream.makeStream(of: Int.self)
        let app = try await RealtimeServerApp.build(configuration: configuration, logger: logger) { channel in
            portReady.yield(channel.localAddress?.port ?? 0)
            portReady.finish()
        }
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port = 0
            for await p in ports { port = p }
            let server = RunningServer(port: port, configuration: configuration)
            do {
                let result = try await body(server) { await group.triggerGracefulShutdown() }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
                return result
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
        }
    }
}

struct RunningServer: Sendable {
    let port: Int
    let configuration: ServerConfiguration
    var http: String { "http://127.0.0.1:\(port)" }
    var ws: String { "ws://127.0.0.1:\(port)" }
}
