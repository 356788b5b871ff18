import ArgumentParser
import Diagnosis
import Foundation
import Hummingbird
import Logging
import NIOCore
import RealtimeCore
import RealtimeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the realtime server: WebSocket, Server-Sent Events and long-polling with resumable positions.",
        discussion: """
            Clients reach channels over /ws, /sse or /poll with the same epoch:offset positions, so they can \
            switch transport (or instance) mid-stream without losing or repeating a message. Discovery: \
            GET /api/realtime; health: GET /api/health; publish: POST /api/channels/CHANNEL/publish.

            Durations are written 500ms, 20s, 5m. SIGINT or SIGTERM stops the server gracefully \
            (WebSockets closed with 1001, streams and held polls ended, reports flushed). Logs go to \
            stderr, one line per HTTP request with its request id (X-Request-Id).

            Exit status: 0 stopped by a signal, 1 could not serve (e.g. the port is taken), 64 bad usage, \
            73 --data-dir cannot be created.

            Faults for --simulate FAULT (repeatable), to watch clients cope without a broken proxy:
            \(faultList)
            """)

    @Option(help: ArgumentHelp("Address to listen on (0.0.0.0 or :: for every interface).", valueName: "HOST"))
    var host = "127.0.0.1"
    @Option(help: ArgumentHelp("Port to listen on (0: any free port; the address is printed at start).", valueName: "PORT"))
    var port = 8080
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("Folder for stored diagnostics reports (SQLite); made if missing.", valueName: "DIR"))
    var dataDir = "wsdoctor-data"
    @Option(name: .customLong("history-size"), help: ArgumentHelp("Messages kept per channel for recovery.", valueName: "N"))
    var historySize = 1000
    @Option(name: .customLong("history-ttl"), help: ArgumentHelp("How long messages are kept for recovery.", valueName: "DURATION"))
    var historyTTL = "300s"
    @Option(name: .customLong("ping-interval"), help: ArgumentHelp("WebSocket ping / SSE comment interval; a pong missing by the next ping closes with 4408.", valueName: "DURATION"))
    var pingInterval = "20s"
    @Option(name: .customLong("max-message-size"), help: ArgumentHelp("Largest message, in bytes (then close 1009 / HTTP 413).", valueName: "BYTES"))
    var maxMessageSize = 64 * 1024
    @Option(name: .customLong("max-subscriptions"), help: ArgumentHelp("Subscriptions per connection.", valueName: "N"))
    var maxSubscriptions = 100
    @Option(name: .customLong("max-connections"), help: ArgumentHelp("Concurrent connections, all transports; beyond it new ones get 503 with Retry-After.", valueName: "N"))
    var maxConnections = 10_000
    @Option(name: .customLong("publish-rate"), help: ArgumentHelp("Publishes per second per connection or client (then close 4429 / HTTP 429).", valueName: "N"))
    var publishRate = 100
    @Option(name: .customLong("allow-origin"), help: ArgumentHelp("An origin allowed besides same-origin requests and requests without Origin (repeatable).", valueName: "ORIGIN"))
    var allowOrigin: [String] = []
    @Option(name: .customLong("publish-token"), help: ArgumentHelp("Token required to publish, as Authorization: Bearer TOKEN or ?token=TOKEN (default: none, anyone may publish).", valueName: "TOKEN"))
    var publishToken: String?
    @Option(name: .customLong("admin-token"), help: ArgumentHelp("Token required to read reports and stats (default: none).", valueName: "TOKEN"))
    var adminToken: String?
    @Option(help: ArgumentHelp("Simulate a network fault (repeatable); see the list above.", valueName: "FAULT"))
    var simulate: [String] = []

    func validate() throws { _ = try serverConfiguration() }

    func serverConfiguration() throws -> ServerConfiguration {
        var c = ServerConfiguration()
        guard !host.isEmpty, !host.contains(where: { $0.isWhitespace || $0 == "/" }) else { throw ValidationError("--host '\(host)' is not an address") }
        c.host = host
        guard (0...65535).contains(port) else { throw ValidationError("--port \(port) is not a port (0-65535)") }
        c.port = port
        guard !dataDir.isEmpty else { throw ValidationError("--data-dir needs a folder") }
        c.dataDirectory = URL(fileURLWithPath: dataDir, isDirectory: true)
        guard (0...1_000_000).contains(historySize) else { throw ValidationError("--history-size must be 0 to 1000000") }
        c.limits.history.size = historySize
        c.limits.history.ttl = try Self.seconds(historyTTL, "--history-ttl")
        guard c.limits.history.ttl > 0 else { throw ValidationError("--history-ttl must be more than 0") }
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
        for origin in allowOrigin where !Self.isOrigin(origin) {
            throw ValidationError("--allow-origin '\(origin)' is not an origin: write it like https://app.example or http://localhost:3000")
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

    /// `scheme://host[:port]`, nothing after: what browsers send in `Origin`.
    static func isOrigin(_ text: String) -> Bool {
        var text = Substring(text)
        while text.hasSuffix("/") { text = text.dropLast() }
        guard let r = text.range(of: "://") else { return false }
        let scheme = text[..<r.lowerBound], rest = text[r.upperBound...]
        return !scheme.isEmpty && scheme.allSatisfy({ $0.isLetter || $0.isNumber || "+-.".contains($0) })
            && !rest.isEmpty && !rest.contains(where: { $0.isWhitespace || "/?#@".contains($0) })
    }

    func run() async throws {
        let configuration = try serverConfiguration()
        do { try Self.makeDirectory(configuration.dataDirectory.path) } catch {
            Self.fail("cannot create --data-dir '\(dataDir)': \(error.reason)")
            throw ExitCode(73)
        }
        var logger = Logger(label: "wsdoctor.serve")
        logger.logLevel = .info
        logger.info("starting", metadata: [
            "version": .string(configuration.version),
            "data_dir": .string(configuration.dataDirectory.path),
            "history": .string("\(configuration.limits.history.size) messages, \(DurationText.format(seconds: configuration.limits.history.ttl))"),
            "ping_interval": .string(DurationText.format(seconds: configuration.limits.pingInterval)),
            "max_connections": .stringConvertible(configuration.limits.maxConnections),
            "allowed_origins": .string(configuration.allowedOrigins.isEmpty ? "same-origin only" : configuration.allowedOrigins.joined(separator: ",")),
            // Whether a token is set, never the token.
            "publish_token": .string(configuration.publishToken == nil ? "none" : "set"),
            "admin_token": .string(configuration.adminToken == nil ? "none" : "set"),
        ])
        for fault in configuration.faults {
            logger.warning("simulating fault: \(Self.help(for: fault))", metadata: ["fault": .string(Self.name(of: fault))])
        }
        do {
            let app = try await RealtimeServerApp.build(configuration: configuration, logger: logger) { channel in
                let address = channel.localAddress.map { Self.hostPort($0.ipAddress ?? configuration.host, $0.port ?? configuration.port) } ?? ""
                FileHandle.standardError.write(Data("wsdoctor serve: listening on http://\(address)\n".utf8))
            }
            try await app.runService()
        } catch let error as IOError where error.errnoCode == EADDRINUSE {
            Self.fail("cannot listen on \(Self.hostPort(configuration.host, configuration.port)): the address is in use (another server? try another --port, or --port 0)")
            throw ExitCode.failure
        } catch let error as IOError where error.errnoCode == EADDRNOTAVAIL || error.errnoCode == EACCES {
            Self.fail("cannot listen on \(Self.hostPort(configuration.host, configuration.port)): \(String(cString: strerror(error.errnoCode)))")
            throw ExitCode.failure
        } catch let exit as ExitCode {
            throw exit
        } catch {
            Self.fail("serve stopped: \(error)")
            throw ExitCode.failure
        }
    }

    // MARK: - Helpers

    /// One line on stderr, control characters escaped.
    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("wsdoctor: \(WSDoctor.printable(message))\n".utf8))
    }

    /// `host:port`, IPv6 addresses in brackets.
    static func hostPort(_ host: String, _ port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    struct DirectoryError: Error { var reason: String }

    /// `mkdir -p`, then a check that the folder can be written.
    static func makeDirectory(_ path: String) throws(DirectoryError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            guard mkdir(current, 0o755) != 0 else { continue }
            let code = errno
            var isDirectory: ObjCBool = false
            let exists = FileManager.default.fileExists(atPath: current, isDirectory: &isDirectory)
            if exists && isDirectory.boolValue { continue }
            if exists { throw DirectoryError(reason: "\(current.hasPrefix("./") ? String(current.dropFirst(2)) : current) is a file, not a folder") }
            throw DirectoryError(reason: String(cString: strerror(code)).lowercased())
        }
        guard access(path, W_OK | X_OK) == 0 else { throw DirectoryError(reason: "the folder is not writable (\(String(cString: strerror(errno)).lowercased()))") }
    }

    /// The faults for `--help`: name, then the help text wrapped under it.
    static var faultList: String {
        SimulatedFault.catalogue.map { entry in
            "  \(entry.name)\n" + wrap(entry.help, width: 74).map { "      \($0)" }.joined(separator: "\n")
        }.joined(separator: "\n")
    }

    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }

    /// A fault as written on the command line: `latency=250ms`.
    static func name(of fault: SimulatedFault) -> String {
        switch fault {
        case .idleCut(let s): "idle-cut=\(DurationText.format(seconds: s))"
        case .slowHandshake(let s): "slow-handshake=\(DurationText.format(seconds: s))"
        case .latency(let s): "latency=\(DurationText.format(seconds: s))"
        default: fault.description
        }
    }

    /// The catalogue's help for a fault, its DURATION filled in.
    static func help(for fault: SimulatedFault) -> String {
        let written = name(of: fault)
        let base = written.split(separator: "=", maxSplits: 1).first.map(String.init) ?? written
        guard let entry = SimulatedFault.catalogue.first(where: { $0.name == base || $0.name.hasPrefix(base + "=") }) else { return written }
        if let value = written.split(separator: "=", maxSplits: 1).dropFirst().first {
            return entry.help.replacingOccurrences(of: "DURATION", with: String(value)).replacingOccurrences(of: "that long", with: String(value))
        }
        return entry.help
    }
}
