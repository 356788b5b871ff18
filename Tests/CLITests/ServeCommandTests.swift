import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `wsdoctor serve` run as an operator would: flags checked before anything starts,
/// the address printed on stderr, health answered, and a clean exit on SIGTERM/SIGINT.
@Suite("wsdoctor serve: flags, start and graceful stop")
struct ServeCommandTests {
    struct Misuse: Sendable, CustomTestStringConvertible {
        var args: [String]
        var mentions: String
        var testDescription: String { args.joined(separator: " ").debugDescription }
    }

    static let misuses: [Misuse] = [
        Misuse(args: ["--port", "70000"], mentions: "--port"),
        Misuse(args: ["--port", "http"], mentions: "http"),
        Misuse(args: ["--host", ""], mentions: "--host"),
        Misuse(args: ["--host", "a b"], mentions: "--host"),
        Misuse(args: ["--data-dir", ""], mentions: "--data-dir"),
        Misuse(args: ["--history-size", "-1"], mentions: "--history-size"),
        Misuse(args: ["--history-ttl", "5q"], mentions: "5q"),
        Misuse(args: ["--history-ttl", "0s"], mentions: "--history-ttl"),
        Misuse(args: ["--ping-interval", "10ms"], mentions: "--ping-interval"),
        Misuse(args: ["--ping-interval", "20q"], mentions: "20q"),
        Misuse(args: ["--max-message-size", "1"], mentions: "--max-message-size"),
        Misuse(args: ["--max-subscriptions", "0"], mentions: "--max-subscriptions"),
        Misuse(args: ["--max-connections", "0"], mentions: "--max-connections"),
        Misuse(args: ["--publish-rate", "0"], mentions: "--publish-rate"),
        Misuse(args: ["--allow-origin", "app.example"], mentions: "--allow-origin"),
        Misuse(args: ["--allow-origin", "https://app.example/path"], mentions: "--allow-origin"),
        Misuse(args: ["--publish-token", "short"], mentions: "--publish-token"),
        Misuse(args: ["--admin-token", "has spaces in it"], mentions: "--admin-token"),
        Misuse(args: ["--simulate", "bogus"], mentions: "bogus"),
        Misuse(args: ["--simulate", "latency"], mentions: "latency"),
        Misuse(args: ["--simulate", "latency=0s"], mentions: "latency"),
        Misuse(args: ["--simulate", "idle-cut=5q"], mentions: "5q"),
        Misuse(args: ["--simulate", "no-pong=5s"], mentions: "no-pong"),
        Misuse(args: ["--simulate", "bad\r\nInjected: 1"], mentions: "--simulate"),
        Misuse(args: ["--bogus"], mentions: "--bogus"),
    ]

    @Test("bad flags: exit 64, one line on stderr naming the problem, nothing started", arguments: misuses)
    func badFlags(_ misuse: Misuse) async throws {
        // Were the flags accepted, the run would fail at once (192.0.2.1 is no local
        // address) and with another status, and would touch only a temporary folder.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let base = ["serve", "--host", "192.0.2.1", "--port", "0", "--data-dir", folder.path]
        let r = try await WSDoctorBinary.run(base + misuse.args, timeout: 30)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        #expect(lines.count == 1, "expected one line, got \(lines.count): \(r.stderr.debugDescription)")
        #expect(r.stderr.contains(misuse.mentions), "the error should name \(misuse.mentions): \(r.stderr)")
    }

    @Test func helpDocumentsEveryFlagWithItsDefaultAndEveryFault() async throws {
        let r = try await WSDoctorBinary.run(["serve", "--help"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let flags = ["--host", "--port", "--data-dir", "--history-size", "--history-ttl", "--ping-interval",
                     "--max-message-size", "--max-subscriptions", "--max-connections", "--publish-rate",
                     "--allow-origin", "--publish-token", "--admin-token", "--simulate"]
        for flag in flags { #expect(r.stdout.contains(flag + " "), "--help does not list \(flag)") }
        // ArgumentParser wraps lines anywhere, "(default:" and its value included.
        let flat = r.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        for value in ["127.0.0.1", "8080", "wsdoctor-data", "1000", "300s", "20s", "65536", "100", "10000"] {
            #expect(flat.contains("(default: \(value))"), "--help does not show the default \(value)")
        }
        let faults = ["strip-upgrade", "swallow-upgrade", "drop-after-upgrade", "idle-cut=DURATION", "no-pong",
                      "slow-handshake=DURATION", "block-sse", "block-poll", "reject-origin", "latency=DURATION"]
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for fault in faults {
            let at = try #require(lines.firstIndex(of: fault), "--help does not document \(fault)")
            #expect(at + 1 < lines.count && lines[at + 1].count > 10, "\(fault) has no explanation")
        }
        #expect(r.stdout.contains("500ms"))
    }

    @Test func aDataDirThatCannotBeMadeIsOneLineAndExit73() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("a-file")
        #expect(FileManager.default.createFile(atPath: file.path, contents: Data("x".utf8)))
        let r = try await WSDoctorBinary.run(["serve", "--port", "0", "--data-dir", file.path + "/reports"], timeout: 30)
        #expect(r.status == 73, "stderr: \(r.stderr)")
        let lines = r.stderr.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        #expect(lines.count == 1, "\(r.stderr.debugDescription)")
        #expect(r.stderr.contains("--data-dir") && r.stderr.contains("is a file"))
    }

    @Test("starts on a free port, answers health, stops cleanly on the signal", arguments: [SIGTERM, SIGINT])
    func startsAnswersAndStopsGracefully(signal: Int32) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let dataDir = folder.appendingPathComponent("nested/data")
        let server = try ServeProcess.start(["serve", "--port", "0", "--data-dir", dataDir.path,
                                             "--simulate", "latency=50ms", "--simulate", "no-pong"])
        defer { server.kill() }
        let address = try await server.address(within: .seconds(30))
        #expect(address.hasPrefix("http://127.0.0.1:"))
        let port = try #require(Int(address.split(separator: ":").last ?? ""))
        #expect(port > 0)
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: dataDir.path, isDirectory: &isDirectory) && isDirectory.boolValue)

        let health = try await BlockingHTTP.get(port: port, path: "/api/health")
        #expect(health.status == 200, "\(health.text)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(json["status"] as? String == "ok")

        let sent = ContinuousClock.now
        server.signal(signal)
        let status = try await server.exitStatus(within: .seconds(10))
        #expect(status == 0, "stderr: \(server.stderr)")
        #expect(ContinuousClock.now - sent < .seconds(5))

        let stderr = server.stderr
        let listening = stderr.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("wsdoctor serve: listening on ") }
        #expect(listening.count == 1, "\(stderr)")
        // Each simulated fault is logged at start, as written.
        #expect(stderr.contains("latency=50ms"), "\(stderr)")
        #expect(stderr.contains("no-pong"), "\(stderr)")
        #expect(!stderr.contains("Fatal") && !stderr.contains("crashed"), "\(stderr)")
    }

    @Test func aTakenPortIsOneLineAndExit1() async throws {
        let first = try ServeProcess.start(["serve", "--port", "0", "--data-dir",
                                            FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)").path])
        defer { first.kill() }
        let address = try await first.address(within: .seconds(30))
        let port = String(address.split(separator: ":").last ?? "")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-serve-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let second = try ServeProcess.start(["serve", "--port", port, "--data-dir", folder.path])
        defer { second.kill() }
        let status = try await second.exitStatus(within: .seconds(30))
        #expect(status == 1, "stderr: \(second.stderr)")
        let mine = second.stderr.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("wsdoctor: ") }
        #expect(mine.count == 1 && mine.first?.contains("in use") == true, "\(second.stderr)")
        first.signal(SIGTERM)
        #expect(try await first.exitStatus(within: .seconds(10)) == 0)
    }
}

// MARK: - Support

/// `wsdoctor` spawned with posix_spawn, a clean signal mask and default signal
/// actions (a child of the test runner may otherwise inherit SIGTERM blocked), stderr
/// read through a socket pair on a thread of its own, the exit awaited on another: no thread
/// of the cooperative pool ever blocks, and every wait has a deadline.
private final class ServeProcess: Sendable {
    struct Timeout: Error, CustomStringConvertible { var description: String }

    let pid: pid_t
    private let output = LockedText()
    private let lines: AsyncStream<String>
    private let exit: ExitWaiter

    private init(pid: pid_t, stderrFD: Int32) {
        self.pid = pid
        let (lines, continuation) = AsyncStream.makeStream(of: String.self)
        self.lines = lines
        let output = self.output
        Thread {
            var pending = ""
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(stderrFD, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                let chunk = String(decoding: buffer[0..<n], as: UTF8.self)
                output.append(chunk)
                pending += chunk
                while let newline = pending.firstIndex(of: "\n") {
                    continuation.yield(String(pending[..<newline]))
                    pending = String(pending[pending.index(after: newline)...])
                }
            }
            close(stderrFD)
            continuation.finish()
        }.start()
        exit = ExitWaiter(pid: pid)
    }

    static func start(_ args: [String]) throws -> ServeProcess {
        let path = WSDoctorBinary.url.path
        // A socket pair made close-on-exec atomically (Glibc here exports no pipe2): no
        // child spawned at the same moment by another test can inherit the write end.
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for s in [SIGTERM, SIGINT, SIGPIPE, SIGHUP] { sigaddset(&defaults, s) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.lowercased().hasSuffix("_proxy") { environment[key] = nil }
        environment["NO_COLOR"] = "1"
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + args).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, envp)
        close(fds[1])
        guard rc == 0 else {
            close(fds[0])
            throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL)
        }
        return ServeProcess(pid: pid, stderrFD: fds[0])
    }

    /// Everything written on stderr so far.
    var stderr: String { output.text }

    /// The `http://HOST:PORT` of the "listening on" line.
    func address(within limit: Duration) async throws -> String {
        let lines = self.lines
        let found = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask {
                for await line in lines where line.hasPrefix("wsdoctor serve: listening on ") {
                    return String(line.dropFirst("wsdoctor serve: listening on ".count))
                }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: limit)
                throw Timeout(description: "no address within \(limit)")
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            return first
        }
        guard let found else { throw Timeout(description: "exited before listening: \(stderr)") }
        return found
    }

    func signal(_ number: Int32) { _ = Glibc.kill(pid, number) }

    /// Kills the process if it is still running (a test that failed midway).
    func kill() {
        if !exit.hasExited { _ = Glibc.kill(pid, SIGKILL) }
    }

    /// The exit status (128 + N when killed by signal N); kills it when `limit` passes first.
    func exitStatus(within limit: Duration) async throws -> Int32 {
        let exit = self.exit, pid = self.pid
        return try await withThrowingTaskGroup(of: Int32?.self) { group in
            group.addTask { await exit.status() }
            group.addTask {
                try await Task.sleep(for: limit)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else {
                _ = Glibc.kill(pid, SIGKILL)
                throw Timeout(description: "still running after \(limit)")
            }
            return first
        }
    }
}

/// waitpid on a thread of its own; the status is kept for every later asker.
private final class ExitWaiter: Sendable {
    private let state = LockedBox<(status: Int32?, waiters: [CheckedContinuation<Int32, Never>])>((nil, []))

    init(pid: pid_t) {
        let state = self.state
        Thread {
            var raw: Int32 = 0
            while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
            let signaled = (raw & 0x7F) != 0
            let status = signaled ? 128 + (raw & 0x7F) : (raw >> 8) & 0xFF
            let waiters = state.withLock { s -> [CheckedContinuation<Int32, Never>] in
                s.status = status
                defer { s.waiters = [] }
                return s.waiters
            }
            waiters.forEach { $0.resume(returning: status) }
        }.start()
    }

    var hasExited: Bool { state.withLock { $0.status != nil } }

    func status() async -> Int32 {
        await withCheckedContinuation { continuation in
            let done = state.withLock { s -> Int32? in
                if let status = s.status { return status }
                s.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }
}

/// One HTTP/1.1 GET over a blocking socket on a thread of its own, with 10 s socket timeouts.
private enum BlockingHTTP {
    struct Answer: Sendable {
        var status: Int
        var body: String
        var text: String
    }

    struct Failure: Error, CustomStringConvertible { var description: String }

    static func get(port: Int, path: String) async throws -> Answer {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result { try fetch(port: port, path: path) })
            }.start()
        }
    }

    private static func fetch(port: Int, path: String) throws -> Answer {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(errno)") }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)") }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n\r\n".utf8)
        guard send(fd, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { throw Failure(description: "send: errno \(errno)") }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while bytes.count < 1 << 20 {
            let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n"),
              let status = Int(text.split(separator: " ").dropFirst().first ?? "")
        else { throw Failure(description: "not an HTTP answer: \(text.prefix(200).debugDescription)") }
        return Answer(status: status, body: String(text[headEnd.upperBound...]), text: text)
    }
}

private final class LockedText: Sendable {
    private let box = LockedBox("")
    func append(_ s: String) { box.withLock { $0 += s } }
    var text: String { box.withLock { $0 } }
}

/// A value behind an NSLock (CLITests has no NIO).
private final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
