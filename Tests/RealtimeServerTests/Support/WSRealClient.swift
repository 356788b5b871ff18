import Foundation
import HTTPTypes
import Logging
import RealtimeServer
import NIOCore
import NIOWebSocket
import WSClient

/// swift-websocket's client, as an application would use it: it answers pings, does the
/// close handshake, and reports the close frame the server sent.
enum WSReal {
    struct Timeout: Error, CustomStringConvertible {
        var seconds: Double
        var description: String { "no end within \(seconds) s" }
    }

    /// Connects to `url`, runs `body` on the connection, and returns the server's close
    /// frame (nil when the connection ended without one). Bounded by `timeout`.
    @discardableResult
    static func connect(
        _ url: String, headers: HTTPFields = [:], timeout: Double = 20,
        _ body: @escaping @Sendable (WSMessages, WebSocketOutboundWriter) async throws -> Void
    ) async throws -> WebSocketCloseFrame? {
        let logger = {
            var logger = Logger(label: "test.ws-client")
            logger.logLevel = .critical
            return logger
        }()
        var configuration = WebSocketClientConfiguration()
        configuration.additionalHeaders = headers
        configuration.maxFrameSize = 1 << 20
        let settings = configuration
        return try await withDeadline(timeout) {
            let client = WebSocketClient(url: url, configuration: settings, logger: logger) { inbound, outbound, _ in
                try await body(WSMessages(inbound.messages(maxSize: 1 << 22).makeAsyncIterator()), outbound)
            }
            return try await client.run()
        }
    }
}

/// The messages of one client connection, read in order.
final class WSMessages: @unchecked Sendable {
    private var iterator: WebSocketInboundMessageStream.AsyncIterator

    init(_ iterator: WebSocketInboundMessageStream.AsyncIterator) { self.iterator = iterator }

    func next() async throws -> WebSocketMessage? { try await iterator.next() }

    func json() async throws -> [String: Any] {
        guard let message = try await next() else { throw WSRawClient.Failure(description: "the connection ended") }
        guard case .text(let text) = message,
              let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        else { throw WSRawClient.Failure(description: "not a JSON text message: \(message)") }
        return object
    }

    /// Drains until the server ends the connection.
    func drain() async throws { while try await next() != nil {} }
}

/// Runs `operation`, failing with `WSReal.Timeout` if it is not done within `seconds`.
func withDeadline<T: Sendable>(_ seconds: Double, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
            throw WSReal.Timeout(seconds: seconds)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

extension WebSocketErrorCode {
    /// The code as a number (1000, 4408 …).
    var number: Int { Int(UInt16(webSocketErrorCode: self)) }
}

extension ServerConfiguration {
    /// swift-websocket's client sends `Origin: ws://HOST` (no port, not the page's origin a
    /// browser would send): tests that use it allow that origin.
    static func forWSClient(_ configuration: inout ServerConfiguration) {
        configuration.allowedOrigins.append("ws://127.0.0.1")
    }
}
