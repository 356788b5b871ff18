import Foundation
import NIOCore
import NIOPosix

/// A server on 127.0.0.1 with an ephemeral port, for tests that need a real peer. Each accepted
/// connection gets its handlers from `childSetup`, which runs on the connection's event loop.
/// `shutdown()` closes the listener and every accepted connection, so no test leaves sockets behind.
final class LocalTestServer: Sendable {
    let port: Int
    private let listener: any Channel
    private let children: AcceptedChannels

    private init(port: Int, listener: any Channel, children: AcceptedChannels) {
        self.port = port
        self.listener = listener
        self.children = children
    }

    static func start(childSetup: @escaping @Sendable (any Channel) throws -> Void) async throws -> LocalTestServer {
        let children = AcceptedChannels()
        let listener = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                children.add(child)
                return child.eventLoop.makeCompletedFuture { try childSetup(child) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = listener.localAddress?.port else {
            try? await listener.close()
            throw TestServerError.noPort
        }
        return LocalTestServer(port: port, listener: listener, children: children)
    }

    func shutdown() async {
        try? await listener.close()
        for child in children.all { try? await child.close() }
    }

    enum TestServerError: Error { case noPort }
}

/// The connections a test server accepted, so shutdown can close them.
private final class AcceptedChannels: @unchecked Sendable {
    // Guarded by `lock`; accepts happen on event loop threads while the test reads from its own task.
    private let lock = NSLock()
    private var channels: [any Channel] = []

    func add(_ channel: any Channel) {
        lock.lock()
        defer { lock.unlock() }
        channels.append(channel)
    }

    var all: [any Channel] {
        lock.lock()
        defer { lock.unlock() }
        return channels
    }
}
