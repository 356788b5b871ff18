import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

struct NetworkSetupFailure: Error, CustomStringConvertible {
    var description: String
}

/// A network namespace made for one test (`ip netns add`), with only `lo`, up: no route
/// leaves it, and its resolver is whatever the test writes into /etc/netns/NAME/resolv.conf
/// (`ip netns exec` bind-mounts that over /etc/resolv.conf). Deleted afterwards, always.
struct NetworkNamespace: Sendable {
    let name: String
    let ip: String

    /// Root and the `ip` tool are needed; without them the tests fail saying so.
    static func requirements() throws -> String {
        guard geteuid() == 0 else {
            throw NetworkSetupFailure(description: """
                network-namespace tests need root (ip netns add, bind-mounted resolv.conf); \
                run them as root, e.g. `sudo scripts/test`, or in a container running as root
                """)
        }
        let candidates = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"]
        guard let ip = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw NetworkSetupFailure(description: "the `ip` tool is missing: install iproute2 (scripts/test does, as root)")
        }
        return ip
    }

    /// Runs `body` with a fresh namespace; deletes the namespace and its /etc/netns folder
    /// afterwards, also when `body` throws.
    static func with<T>(_ body: (NetworkNamespace) async throws -> T) async throws -> T {
        let ip = try requirements()
        let namespace = NetworkNamespace(name: "wsdoctor-\(UUID().uuidString.prefix(8).lowercased())", ip: ip)
        let add = try await Command.run(ip, ["netns", "add", namespace.name])
        guard add.status == 0 else {
            throw NetworkSetupFailure(description: "ip netns add \(namespace.name) failed (\(add.status)): \(add.stderr)")
        }
        let outcome: Result<T, any Error>
        do {
            let up = try await Command.run(ip, ["-n", namespace.name, "link", "set", "lo", "up"])
            guard up.status == 0 else {
                throw NetworkSetupFailure(description: "ip -n \(namespace.name) link set lo up failed: \(up.stderr)")
            }
            outcome = .success(try await body(namespace))
        } catch {
            outcome = .failure(error)
        }
        _ = try? await Command.run(ip, ["netns", "delete", namespace.name])
        try? FileManager.default.removeItem(atPath: namespace.configFolder)
        return try outcome.get()
    }

    var configFolder: String { "/etc/netns/\(name)" }

    /// Points the namespace's resolver at `nameserver` (one try, one second, so a dead
    /// resolver fails fast).
    func useResolver(_ nameserver: String) throws {
        try FileManager.default.createDirectory(atPath: configFolder, withIntermediateDirectories: true)
        try "nameserver \(nameserver)\noptions timeout:1 attempts:1\n"
            .write(toFile: "\(configFolder)/resolv.conf", atomically: true, encoding: .utf8)
    }

    /// `ip netns exec NAME wsdoctor args…`: the real binary, inside the namespace.
    func wsdoctor(_ args: [String], timeout: Double = 60) async throws -> CommandResult {
        try await Command.run(ip, ["netns", "exec", name, WSDoctorBinary.url.path] + args, timeout: timeout)
    }
}


/// A DNS server on 127.0.0.1:53/udp inside a namespace that answers every query with
/// NXDOMAIN, as an authoritative server does for a name that does not exist.
///
/// It runs on a thread of the test process: the thread enters the namespace (`setns`),
/// creates and binds its UDP socket there (a socket belongs to the namespace it was made
/// in), returns to the original namespace and serves. No helper program is needed.
final class NXDomainResponder: Sendable {
    private enum State { case starting, ready, failed(String), finished }
    private let state = Mutex(State.starting)
    private let stopRequested = Atomic<Bool>(false)
    private let answered = Atomic<Int>(0)

    /// Queries answered so far.
    var queriesAnswered: Int { answered.load(ordering: .relaxed) }

    static func start(in namespace: NetworkNamespace) async throws -> NXDomainResponder {
        let responder = NXDomainResponder()
        let name = namespace.name
        let thread = Thread { responder.serve(namespacePath: "/run/netns/\(name)") }
        thread.name = "nxdomain-dns"
        thread.start()
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            switch responder.state.withLock({ $0 }) {
            case .ready: return responder
            case .failed(let why): throw NetworkSetupFailure(description: "NXDOMAIN responder: \(why)")
            case .starting, .finished: try await Task.sleep(for: .milliseconds(5))
            }
        }
        responder.stopRequested.store(true, ordering: .relaxed)
        throw NetworkSetupFailure(description: "NXDOMAIN responder did not start within 5 s")
    }

    /// Stops serving and waits (at most 2 s) for the socket to be closed.
    func stop() async {
        stopRequested.store(true, ordering: .relaxed)
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            if case .finished = state.withLock({ $0 }) { return }
            try? await Task.sleep(for: .milliseconds(10))
        }
    }

    private func serve(namespacePath: String) {
        defer { state.withLock { $0 = .finished } }
        let fd: Int32
        do { fd = try Self.socketInNamespace(namespacePath) } catch {
            state.withLock { $0 = .failed("\(error)") }
            return
        }
        defer { close(fd) }
        // Wake up every 50 ms to notice stop().
        var wait = timeval(tv_sec: 0, tv_usec: 50_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        state.withLock { $0 = .ready }
        var buffer = [UInt8](repeating: 0, count: 4096)
        while !stopRequested.load(ordering: .relaxed) {
            var peer = sockaddr_storage()
            var peerLength = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let count = withUnsafeMutablePointer(to: &peer) { peerPointer in
                peerPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    recvfrom(fd, &buffer, buffer.count, 0, $0, &peerLength)
                }
            }
            guard count > 0, let reply = Self.nxdomain(for: Array(buffer[..<count])) else { continue }
            let sent = withUnsafePointer(to: &peer) { peerPointer in
                peerPointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, reply, reply.count, 0, $0, peerLength)
                }
            }
            if sent == reply.count { answered.add(1, ordering: .relaxed) }
        }
    }

    /// A UDP socket bound to 127.0.0.1:53 inside the namespace at `path`. Called on the
    /// responder's own thread: `setns` changes the network namespace of the calling thread only.
    private static func socketInNamespace(_ path: String) throws -> Int32 {
        // setns(2) is not exported to Swift by Glibc (it needs _GNU_SOURCE); look it up.
        typealias SetNS = @convention(c) (Int32, Int32) -> Int32
        let cloneNewNet: Int32 = 0x4000_0000  // CLONE_NEWNET
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "setns") else {
            throw NetworkSetupFailure(description: "setns(2) not found in libc")
        }
        let setns = unsafeBitCast(symbol, to: SetNS.self)
        let original = open("/proc/thread-self/ns/net", O_RDONLY)
        let target = open(path, O_RDONLY)
        defer {
            if original >= 0 { close(original) }
            if target >= 0 { close(target) }
        }
        guard original >= 0, target >= 0 else {
            throw NetworkSetupFailure(description: "cannot open \(path) or this thread's namespace: \(String(cString: strerror(errno)))")
        }
        guard setns(target, cloneNewNet) == 0 else {
            throw NetworkSetupFailure(description: "setns(\(path)): \(String(cString: strerror(errno)))")
        }
        defer { _ = setns(original, cloneNewNet) }
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { throw NetworkSetupFailure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = Loopback.address(port: 53)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            let why = String(cString: strerror(errno))
            close(fd)
            throw NetworkSetupFailure(description: "bind(127.0.0.1:53) in the namespace: \(why)")
        }
        return fd
    }

    /// The query's header and question, turned into an authoritative NXDOMAIN answer.
    static func nxdomain(for query: [UInt8]) -> [UInt8]? {
        guard query.count >= 12, query[2] & 0x80 == 0 else { return nil }  // not a query
        let questions = Int(query[4]) << 8 | Int(query[5])
        var end = 12
        for _ in 0..<questions {
            while end < query.count && query[end] != 0 { end += Int(query[end]) + 1 }
            end += 5  // the root label, QTYPE, QCLASS
        }
        guard end <= query.count else { return nil }
        // QR=1, opcode and RD copied, AA=1; RA=1, RCODE=3 (NXDOMAIN); no answer records.
        let flags: [UInt8] = [0x80 | (query[2] & 0x78) | 0x04 | (query[2] & 0x01), 0x80 | 0x03]
        return Array(query[0..<2]) + flags + Array(query[4..<6]) + [0, 0, 0, 0, 0, 0] + Array(query[12..<end])
    }
}

/// A TCP listener on 127.0.0.1 that never accepts, its accept queue (backlog 0) already
/// full: Linux then drops every further SYN (it does not answer RST), exactly what a
/// firewall that DROPs packets looks like to a client. Connecting to it times out.
final class UnacceptingListener {
    let port: Int
    private var descriptors: [Int32] = []

    init() throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard listener >= 0 else { throw NetworkSetupFailure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = Loopback.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && listen(listener, 0) == 0 && getsockname(listener, $0, &length) == 0
            }
        }
        guard ok else {
            let why = String(cString: strerror(errno))
            Glibc.close(listener)
            throw NetworkSetupFailure(description: "listen on 127.0.0.1: \(why)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        descriptors.append(listener)
        // Fill the queue: two connections that are never accepted (the second is the spare in
        // case the first's ACK is still in flight). Non-blocking, so none of this can hang.
        for _ in 0..<2 {
            let filler = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
            guard filler >= 0 else { continue }
            descriptors.append(filler)
            var target = Loopback.address(port: port)
            _ = withUnsafePointer(to: &target) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(filler, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        }
    }

    /// Waits (at most 2 s) until the kernel has a connection in the accept queue, i.e. the
    /// queue of a backlog-0 listener is full. For a listening socket, TCP_INFO's
    /// `tcpi_unacked` is the accept-queue length.
    func waitUntilFull() async throws {
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            var info = tcp_info()
            var length = socklen_t(MemoryLayout<tcp_info>.size)
            if getsockopt(descriptors[0], Int32(IPPROTO_TCP), TCP_INFO, &info, &length) == 0, info.tcpi_unacked >= 1 {
                return
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        throw NetworkSetupFailure(description: "the backlog-0 listener's accept queue did not fill within 2 s")
    }

    func close() {
        for fd in descriptors { Glibc.close(fd) }
        descriptors = []
    }

    deinit { close() }
}

enum Loopback {
    static func address(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}

/// A port on 127.0.0.1 where nothing listens, reserved for as long as the test holds it:
/// a TCP socket bound to port 0 but never listening, so the kernel refuses connections to
/// it (RST) and no other process can take the port meanwhile. Call `close()` when done.
final class ReservedPort {
    let port: Int
    private var fd: Int32

    init() throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NetworkSetupFailure(description: "socket(): \(String(cString: strerror(errno)))") }
        var address = Loopback.address(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let descriptor = fd
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard ok else {
            let why = String(cString: strerror(errno))
            Glibc.close(descriptor)
            throw NetworkSetupFailure(description: "bind(127.0.0.1:0): \(why)")
        }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    deinit { close() }
}
