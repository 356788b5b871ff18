import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
@testable import RealtimeServer
import ServiceLifecycle
import Testing

/// The request id, the access log and the `latency` fault, through a real Hummingbird
/// server on 127.0.0.1 whose router has `Operations.install` in front of a few routes.
@Suite("Operations: request id, access log, latency")
struct OperationsTests {
    @Test func anIDIsMadeWhenNoneIsSentAndGoesBackInTheAnswerAndTheLogs() async throws {
        try await OperationsServer.with { server in
            let r = try await HTTP.request("GET", server.http + "/ok")
            #expect(r.status == 200)
            let id = try #require(r.header("X-Request-Id"))
            #expect(id.count == 16 && id.allSatisfy(\.isHexDigit), "id \(id)")
            let access = try #require(server.logs.accessLine(path: "/ok"))
            #expect(access.level == .info)
            #expect(access.metadata["request_id"] == id)
            #expect(access.metadata["method"] == "GET")
            #expect(access.metadata["status"] == "200")
            #expect(access.metadata["remote"] == "127.0.0.1")
            #expect(Double(access.metadata["duration_ms"] ?? "") != nil)
            // What the route itself logs carries the same id.
            let handled = try #require(server.logs.entries.first { $0.message == "handled /ok" })
            #expect(handled.metadata["request_id"] == id)
        }
    }

    @Test func aSafeClientIDIsKept() async throws {
        try await OperationsServer.with { server in
            let sent = "edge-7f3a.b_2:x"
            let r = try await HTTP.request("GET", server.http + "/ok", headers: [("X-Request-Id", sent)])
            #expect(r.header("X-Request-Id") == sent)
            #expect(server.logs.accessLine(path: "/ok")?.metadata["request_id"] == sent)
        }
    }

    @Test("an unsafe or oversized client id is replaced",
          arguments: ["", "has space", "<script>", "a\"b", String(repeating: "a", count: 65), "naïve"])
    func unsafeClientIDIsReplaced(sent: String) async throws {
        try await OperationsServer.with { server in
            let r = try await HTTP.request("GET", server.http + "/ok", headers: [("X-Request-Id", sent)])
            #expect(r.status == 200)
            let id = try #require(r.header("X-Request-Id"))
            #expect(id != sent)
            #expect(id.count == 16 && id.allSatisfy(\.isHexDigit))
            #expect(!server.logs.text.contains(sent.isEmpty ? "\u{0}" : sent))
        }
    }

    @Test func refusalsAndUnknownPathsAreLoggedWithTheirStatusAndCarryTheID() async throws {
        try await OperationsServer.with { server in
            let refused = try await HTTP.request("GET", server.http + "/refuse")
            #expect(refused.status == 403)
            #expect(refused.json?["error"] as? String == "origin-not-allowed")
            #expect(refused.header("X-Request-Id") != nil)
            #expect(server.logs.accessLine(path: "/refuse")?.metadata["status"] == "403")

            let missing = try await HTTP.request("GET", server.http + "/no/such/path")
            #expect(missing.status == 404)
            #expect(missing.header("X-Request-Id") != nil)
            #expect(server.logs.accessLine(path: "/no/such/path")?.metadata["status"] == "404")

            let broken = try await HTTP.request("GET", server.http + "/boom")
            #expect(broken.status == 500)
            let line = try #require(server.logs.accessLine(path: "/boom"))
            #expect(line.level == .error)
            #expect(line.metadata["status"] == "500")
            #expect(line.metadata["error"] == "Boom")

            // The server still serves.
            #expect(try await HTTP.request("GET", server.http + "/ok").status == 200)
        }
    }

    @Test func tokensCookiesAndQueriesNeverReachTheLog() async throws {
        try await OperationsServer.with { server in
            let r = try await HTTP.request(
                "POST", server.http + "/publish?token=QUERY-SECRET-1&other=QUERY-VALUE-2", body: #"{"a":1}"#,
                headers: [("Authorization", "Bearer HEADER-SECRET-3"), ("Cookie", "sid=COOKIE-SECRET-4"),
                          ("Proxy-Authorization", "Basic PROXY-SECRET-5")])
            #expect(r.status == 200)
            let access = try #require(server.logs.accessLine(path: "/publish"))
            #expect(access.metadata["method"] == "POST")
            let text = server.logs.text
            for secret in ["QUERY-SECRET-1", "QUERY-VALUE-2", "HEADER-SECRET-3", "COOKIE-SECRET-4", "PROXY-SECRET-5", "token="] {
                #expect(!text.contains(secret), "\(secret) leaked into the log")
            }
        }
    }

    @Test func latencyFaultDelaysEveryAnswerRefusalsIncluded() async throws {
        try await OperationsServer.with({ $0.faults = [.latency(0.3)] }) { server in
            let clock = ContinuousClock()
            for path in ["/ok", "/refuse", "/no/such/path"] {
                let started = clock.now
                let r = try await HTTP.request("GET", server.http + path)
                let elapsed = clock.now - started
                #expect(r.status != 0)
                #expect(elapsed >= .milliseconds(300), "\(path) answered after \(elapsed)")
                // The access log measures the whole answer, the delay included.
                let ms = Double(server.logs.accessLine(path: path)?.metadata["duration_ms"] ?? "") ?? 0
                #expect(ms >= 300, "\(path) logged \(ms) ms")
            }
        }
    }

    @Test func withoutTheFaultThereIsNoLatencyMiddleware() {
        let logger = Logger(label: "test.ops")
        var delayed = ServerConfiguration()
        delayed.faults = [.noPong, .latency(0.5)]
        let plain = Operations.middlewares(state: ServerState(configuration: ServerConfiguration(), logger: logger))
        let slow = Operations.middlewares(state: ServerState(configuration: delayed, logger: logger))
        #expect(plain.count == 1 && plain.first is RequestLogMiddleware)
        #expect(slow.count == 2 && slow.last is LatencyMiddleware)
        #expect((slow.last as? LatencyMiddleware)?.delay == .milliseconds(500))
    }

    @Test func requestIDRules() {
        #expect(RequestIDs.accept("abc") == "abc")
        #expect(RequestIDs.accept("A-Z_a.z:09") == "A-Z_a.z:09")
        #expect(RequestIDs.accept(String(repeating: "x", count: 64)) != nil)
        for bad in [nil, "", " ", "a/b", "a\nb", "a\u{0}", String(repeating: "x", count: 65), "é"] as [String?] {
            #expect(RequestIDs.accept(bad) == nil, "\(String(describing: bad)) accepted")
        }
        let a = RequestIDs.make(), b = RequestIDs.make()
        #expect(a != b && a.count == 16 && RequestIDs.accept(a) == a)
    }

    @Test func loggedPathHasNoQueryAndIsBounded() {
        #expect(RequestLogMiddleware.loggablePath("/api/x?token=abc") == "/api/x")
        #expect(RequestLogMiddleware.loggablePath("/a#frag") == "/a")
        #expect(RequestLogMiddleware.loggablePath("/" + String(repeating: "p", count: 500)).count == 201)
        #expect(RequestLogMiddleware.milliseconds(12.34) == "12.3")
        #expect(RequestLogMiddleware.milliseconds(0) == "0.0")
    }
}

// MARK: - Support

/// Hummingbird's `Application` on 127.0.0.1:0 with `Operations.install` and a few
/// routes, logging into a `LogRecorder`.
private enum OperationsServer {
    struct Running: Sendable {
        let port: Int
        let logs: LogRecorder
        var http: String { "http://127.0.0.1:\(port)" }
    }

    struct Boom: Error {}

    static func with(_ configure: (inout ServerConfiguration) -> Void = { _ in },
                     _ body: @Sendable (Running) async throws -> Void) async throws {
        var configuration = ServerConfiguration()
        configure(&configuration)
        let recorder = LogRecorder()
        var logger = Logger(label: "test.ops") { _ in RecordingLogHandler(recorder: recorder) }
        logger.logLevel = .info
        let state = ServerState(configuration: configuration, logger: logger)
        let router = Router(context: AppRequestContext.self)
        Operations.install(on: router, state: state)
        router.get("/ok") { _, context in
            context.logger.info("handled /ok")
            return "ok"
        }
        router.get("/refuse") { _, _ -> String in throw APIError(.forbidden, "origin-not-allowed", "no") }
        router.get("/boom") { _, _ -> String in throw Boom() }
        router.post("/publish") { request, _ in
            _ = try await request.body.collect(upTo: 1024)
            return "ok"
        }
        let (ports, portReady) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                portReady.yield(channel.localAddress?.port ?? 0)
                portReady.finish()
            },
            logger: logger)
        let group = ServiceGroup(services: [app], gracefulShutdownSignals: [], cancellationSignals: [], logger: logger)
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            var port = 0
            for await p in ports { port = p }
            do {
                try await body(Running(port: port, logs: recorder))
            } catch {
                await group.triggerGracefulShutdown()
                try? await tasks.waitForAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }
}

/// Every log entry, with the logger's metadata and the call's merged and rendered.
final class LogRecorder: Sendable {
    struct Entry: Sendable {
        var level: Logger.Level
        var message: String
        var metadata: [String: String]
    }

    private let box = NIOLockedValueBox<[Entry]>([])

    func append(_ entry: Entry) { box.withLockedValue { $0.append(entry) } }
    var entries: [Entry] { box.withLockedValue { $0 } }

    /// The access line of the last request to `path`.
    func accessLine(path: String) -> Entry? {
        entries.last { $0.message == "request" && $0.metadata["path"] == path }
    }

    /// Everything logged, as one text to search for leaks.
    var text: String {
        entries.map { e in ([e.message] + e.metadata.map { "\($0.key)=\($0.value)" }).joined(separator: " ") }
            .joined(separator: "\n")
    }
}

struct RecordingLogHandler: LogHandler {
    let recorder: LogRecorder
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { $1 }
        recorder.append(.init(level: event.level, message: event.message.description,
                              metadata: merged.mapValues { $0.description }))
    }
}
