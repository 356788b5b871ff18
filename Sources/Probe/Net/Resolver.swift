import Diagnosis
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Name resolution with a deadline. `getaddrinfo` cannot be interrupted, so it runs
/// on NIO's thread pool and the probe stops waiting for it at the deadline.
enum Resolver {
    struct Answer: Sendable {
        var ipv4: [SocketAddress] = []
        var ipv6: [SocketAddress] = []
        var failure: ResolveEvidence.Failure?
    }

    static func resolve(host: String, port: Int, timeout: Double) async -> Answer {
        // An IP literal needs no lookup.
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            var answer = Answer()
            if case .v6 = address { answer.ipv6 = [address] } else { answer.ipv4 = [address] }
            return answer
        }
        let lookup = NIOThreadPool.singleton.runIfActive(eventLoop: MultiThreadedEventLoopGroup.singleton.next()) {
            getaddrinfoBlocking(host: host, port: port)
        }
        return await withCheckedContinuation { (continuation: CheckedContinuation<Answer, Never>) in
            let done = NIOLockedValueBox(false)
            let finish: @Sendable (Answer) -> Void = { answer in
                let first = done.withLockedValue { d -> Bool in
                    defer { d = true }
                    return !d
                }
                if first { continuation.resume(returning: answer) }
            }
            lookup.whenComplete { result in
                switch result {
                case .success(let answer): finish(answer)
                case .failure(let error): finish(Answer(failure: .failure("\(error)")))
                }
            }
            let timer = lookup.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout * 1e9))) {
                finish(Answer(failure: .timeout))
            }
            lookup.whenComplete { _ in timer.cancel() }
        }
    }

    private static func getaddrinfoBlocking(host: String, port: Int) -> Answer {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        #if os(Linux)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        defer { if let result { freeaddrinfo(result) } }
        guard status == 0 else {
            switch status {
            case EAI_NONAME: return Answer(failure: .noSuchHost)
            case -5:  // EAI_NODATA (glibc): the name exists but has no address records
                return Answer(failure: .noAddresses)
            case EAI_AGAIN: return Answer(failure: .failure("temporary failure in name resolution (resolver unreachable or timed out)"))
            default: return Answer(failure: .failure(String(cString: gai_strerror(status))))
            }
        }
        var answer = Answer()
        var seen = Set<String>()
        var cursor = result
        while let info = cursor {
            if let sa = info.pointee.ai_addr {
                let address: SocketAddress?
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    address = sa.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
                case AF_INET6:
                    address = sa.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee, host: host) }
                default:
                    address = nil
                }
                if let address, let ip = address.ipAddress, seen.insert(ip).inserted {
                    if case .v6 = address { answer.ipv6.append(address) } else { answer.ipv4.append(address) }
                }
            }
            cursor = info.pointee.ai_next
        }
        if answer.ipv4.isEmpty && answer.ipv6.isEmpty { answer.failure = .noAddresses }
        return answer
    }
}
