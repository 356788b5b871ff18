import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A real nginx (Debian `nginx-light`) run as a child process in front of a local backend,
/// with a generated config in a temporary folder: no daemon, no master process, pid, logs,
/// lock and temp paths inside that folder, so it runs as root without touching /etc or /var.
enum Nginx {
    /// The `location` directives that make nginx proxy WebSocket upgrades, as its docs say.
    static let webSocketProxying = [
        "proxy_http_version 1.1;",
        "proxy_set_header Upgrade $http_upgrade;",
        "proxy_set_header Connection \"upgrade\";",
    ]

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Where Debian and source builds put the binary (/usr/sbin is not always on PATH).
    static func binary() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        let candidates = ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
            + path.split(separator: ":").map { "\($0)/nginx" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs nginx on 127.0.0.1 (a free port) proxying every path to 127.0.0.1:`backendPort`
    /// with `location` directives added, while `body` runs; stops it afterwards, also when
    /// `body` throws. Throws (failing the test) when nginx is missing or does not start.
    static func with<T: Sendable>(
        backendPort: Int, location: [String] = [], _ body: (_ port: Int) async throws -> T
    ) async throws -> T {
        guard let binary = binary() else {
            throw Failure(description: """
                nginx is not installed (looked in /usr/sbin, /usr/local/sbin and PATH). These tests need a real nginx: \
                run scripts/test as root (it installs nginx-light), or `apt-get install nginx-light`.
                """)
        }
        let folder = FileManager.default.temporaryDirectory
            .appendingPathComponent("wsdoctor-nginx-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        // The free port is picked by binding port 0 and closing; another process could take it
        // in between, so a bind failure is retried with a fresh port.
        var lastFailure = ""
        for _ in 0..<3 {
            let port = try freePort()
            let running = try start(binary: binary, folder: folder, port: port, backendPort: backendPort, location: location)
            switch await waitUntilReady(running, port: port, folder: folder) {
            case .ready:
                do {
                    let result = try await body(port)
                    await stop(running)
                    return result
                } catch {
                    await stop(running)
                    throw error
                }
            case .exited(_, let log) where log.contains("Address already in use"):
                lastFailure = log
                continue
            case .exited(let status, let log):
                throw Failure(description: "nginx exited at start (status \(status)):\n\(log)")
            case .timedOut(let log):
                await stop(running)
                throw Failure(description: "nginx did not accept connections on 127.0.0.1:\(port) within 10 s:\n\(log)")
            }
        }
        throw Failure(description: "nginx could not bind a free port three times:\n\(lastFailure)")
    }

    private static func config(folder: String, port: Int, backendPort: Int, location: [String]) -> String {
        """
        daemon off;
        master_process off;
        worker_processes 1;
        pid \(folder)/nginx.pid;
        lock_file \(folder)/nginx.lock;
        error_log \(folder)/error.log info;
        events { worker_connections 64; }
        http {
            access_log \(folder)/access.log;
            client_body_temp_path \(folder)/client_body;
            proxy_temp_path \(folder)/proxy;
            fastcgi_temp_path \(folder)/fastcgi;
            uwsgi_temp_path \(folder)/uwsgi;
            scgi_temp_path \(folder)/scgi;
            server {
                listen 127.0.0.1:\(port);
                location / {
                    proxy_pass http://127.0.0.1:\(backendPort);
                    \(location.joined(separator: "\n            "))
                }
            }
        }

        """
    }

    private static func start(binary: String, folder: URL, port: Int, backendPort: Int, location: [String]) throws -> Child {
        let path = folder.path
        let configFile = folder.appendingPathComponent("nginx.conf")
        try config(folder: path, port: port, backendPort: backendPort, location: location)
            .write(to: configFile, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: "\(path)/error.log")
        try? FileManager.default.removeItem(atPath: "\(path)/nginx.pid")
        // -e: the log used before the config is read (Debian's default is stderr, but be explicit).
        return try Child.spawn(binary, ["-p", path, "-c", configFile.path, "-e", "\(path)/error.log"])
    }

    private enum Readiness {
        case ready
        case exited(Int32, String)
        case timedOut(String)
    }

    /// Polls until nginx is ready, it exits, or 10 s pass. Ready: nginx wrote its pid file
    /// (it does so only after binding its listen socket) and `port` accepts a TCP connection.
    /// The pid file matters: should another process have taken the port, it would accept too.
    private static func waitUntilReady(_ child: Child, port: Int, folder: URL) async -> Readiness {
        let log = { (try? String(contentsOf: folder.appendingPathComponent("error.log"), encoding: .utf8)) ?? "(no error log)" }
        let pidFile = folder.appendingPathComponent("nginx.pid")
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let status = child.exitStatus() { return .exited(status, log()) }
            let written = (try? String(contentsOf: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
            if written == String(child.pid) && accepts(port: port) { return .ready }
            try? await Task.sleep(for: .milliseconds(25))
        }
        return .timedOut(log())
    }

    /// SIGTERM, then up to 5 s for nginx to exit; SIGKILL if it does not.
    private static func stop(_ child: Child) async {
        guard child.exitStatus() == nil else { return }
        kill(child.pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if child.exitStatus() != nil { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
        kill(child.pid, SIGKILL)
        while child.exitStatus() == nil { try? await Task.sleep(for: .milliseconds(10)) }
    }

    /// A child process started with posix_spawn and a clean signal state. Foundation's
    /// `Process` passes on the spawning thread's signal mask, and the test runner's threads
    /// block SIGTERM: an nginx started that way never sees the SIGTERM meant to stop it.
    final class Child {
        let pid: pid_t
        private var status: Int32?

        private init(pid: pid_t) { self.pid = pid }

        static func spawn(_ executable: String, _ arguments: [String]) throws -> Child {
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t()
            sigemptyset(&none)
            var all = sigset_t()
            sigfillset(&all)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &all)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
            let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
            defer { argv.forEach { free($0) } }
            var pid: pid_t = 0
            let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
            guard rc == 0 else { throw Failure(description: "cannot start \(executable): \(String(cString: strerror(rc)))") }
            return Child(pid: pid)
        }

        /// The exit status once the child has ended (reaped without blocking), else nil.
        func exitStatus() -> Int32? {
            if let status { return status }
            var raw: Int32 = 0
            let result = waitpid(pid, &raw, WNOHANG)
            if result == pid {
                status = (raw & 0x7F) == 0 ? (raw >> 8) & 0xFF : 128 + (raw & 0x7F)
            } else if result < 0 {
                status = -1  // not our child any more: nothing to wait for
            }
            return status
        }
    }

    /// A port nothing listens on right now: bind port 0 on 127.0.0.1, read it, close.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket(): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw Failure(description: "bind(127.0.0.1:0): \(String(cString: strerror(errno)))") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw Failure(description: "getsockname(): \(String(cString: strerror(errno)))") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Whether a TCP connect to 127.0.0.1:`port` succeeds (loopback answers at once either way).
    private static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
