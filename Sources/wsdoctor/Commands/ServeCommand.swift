import ArgumentParser
import Diagnosis
import Foundation
import Hummingbird
import Logging
import RealtimeCore
import RealtimeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the realtime server: WebSocket, Server-Sent Events and long-polling with resumable positions.",
        discussion: """
            Clients reach channels over /ws, /sse or /poll with the same epoch:offset positions, so they can \
            switch transport (or instance) mid-stream without losing or repeating a message.

            Faults for --simulate (repeatable):
            \(SimulatedFault.catalogue.map { "  \($0.name): \($0.help)" }.joined(separator: "\n"))
            """)

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0: any free port, printed at start).") var port = 8080
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Folder for stored reports (SQLite).", valueName: "DIR"))
    var dataDir = "wsdoctor-data"
    @Option(name: .customLong("history-size"), help: "Messages kept per channel for recovery.") var historySize = 1000
    @Option(name: .customLong("history-ttl"), help: ArgumentHelp("How long messages are kept for recovery.", valueName: "DURATION"))
    var historyTTL = "300s"
    @Option(name: .customLong("ping-interval"), help: ArgumentHelp("WebSocket ping / SSE comment interval; a pong missing by the next ping closes with 4408.", valueName: "DURATION"))
    var pingInterval = "20s"
    @Option(name: .customLong("max-message-size"), help: ArgumentHelp("Largest message, in bytes.", valueName: "BYTES"))
    var maxMessageSize = 64 * 1024
    @Option(name: .customLong("max-subscriptions"), help: "Subscriptions per connection.") var maxSubscriptions = 100
    @Option(name: .customLong("max-connections"), help: "Concurrent connections; beyond it new ones get 503 with Retry-After.")
    var maxConnections = 10_000
    @Option(name: .customLong("publish-rate"), help: "Publishes per second per connection or client (then 4429 / HTTP 429).")
    var publishRate = 100
    @Option(name: .customLong("allow-origin"), help: ArgumentHelp("An origin allowed besides same-origin requests (repeatable).", valueName: "ORIGIN"))
    var allowOrigin: [String] = []
    @Option(name: .customLong("publish-token"), help: "Token required to publish (Authorization: Bearer or ?token=).")
    var publishToken: String?
    @Option(name: .customLong("admin-token"), help: "Token required to read reports and stats.") var adminToken: String?
    @Option(help: ArgumentHelp("Simulate a network fault (repeatable); see the list above.", valueName: "FAULT"))
    var simulate: [String] = []

    func validate() throws { _ = try serverConfiguration() }

    func serverConfiguration() throws -> ServerConfiguration {
        var c = ServerConfiguration()
        guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw ValidationError("--host '\(host)' is not an address") }
        c.host = host
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port (0-65535)") }
        c.port = port
        c.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true)
        guard (0...1_000_000).contains(historySize) else { throw ValidationError("--history-size must be 0 to 1000000") }
        c.limits.history.size = historySize
        c.limits.history.ttl = try Self.seconds(historyTTL, "--history-ttl")
        c.limits.pingInterval = try Self.seconds(pingInterval, "--ping-interval")
        guard c.limits.pingInterval >= 0.1 else { throw ValidationError("--ping-interval must be at least 100ms") }
        guard (16...(16 << 20)).contains(maxMessageSize) else { throw ValidationError("--max-message-size must be 16 to 16777216 bytes") }
        c.limits.maxMessageSize = maxMessageSize
        guard (1...100_000).contains(maxSubscriptions) else { throw ValidationError("--max-subscriptions must be 1 to 100000") }
        c.limits.maxSubscriptions = maxSubscriptions
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 1000000") }
        c.limits.maxConnections = maxConnections
        guard (1...1_000_000).contains(publishRate) else { throw ValidationError("--publish-rate must be 1 to 1000000") }
        c.limits.publishRate = Double(publishRate)
        for origin in allowOrigin where !origin.contains("://") {
            throw ValidationError("--allow-origin '\(origin)' is not an origin: write it like https://app.example")
        }
        c.allowedOrigins = allowOrigin
        for (name, token) in [("--publish-token", publishToken), ("--admin-token", adminToken)] {
            if let token, token.count < 8 || token.contains(where: { $0.isWhitespace }) {
                throw ValidationError("\(name) must be at least 8 characters without spaces")
            }
        }
        c.publishToken = publishToken
        c.adminToken = adminToken
        c.faults = try simulate.map { text in
            do { return try SimulatedFault.parse(text, duration: { try DurationText.seconds($0) }) } catch let e as SimulatedFault.ParseError {
                throw ValidationError(e.description)
            } catch let e as DurationText.ParseError {
                throw ValidationError("--simulate \(text): \(e.description)")
            }
        }
        return c
    }

    static func seconds(_ text: String, _ option: String) throws -> Double {
        do { return try DurationText.seconds(text) } catch { throw ValidationError("\(option) \(error.description)") }
    }

    func run() async throws {
        let configuration = try serverConfiguration()
        var logger = Logger(label: "wsdoctor.serve")
        logger.logLevel = .info
        for fault in configuration.faults { logger.warning("simulating fault", metadata: ["fault": "\(fault)"]) }
        let app = try await RealtimeServerApp.build(configuration: configuration, logger: logger) { channel in
            let address = channel.localAddress.map { "\($0.ipAddress ?? configuration.host):\($0.port ?? configuration.port)" } ?? ""
            FileHandle.standardError.write(Data("wsdoctor serve: listening on http://\(address)\n".utf8))
        }
        try await app.runService()
    }
}
