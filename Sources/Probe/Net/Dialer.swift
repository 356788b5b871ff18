import Diagnosis
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// What one dial observed in the proxy, resolve, connect and tls stages.
struct DialRecord: Sendable {
    var proxy: ProxyEvidence?
    var resolve: ResolveEvidence?
    var connect: ConnectEvidence?
    var tls: TLSEvidence?
    /// The stage that stopped the dial, if any.
    var failedStage: StageName?
}

/// Opens connections to the target the way a browser would reach it: through the
/// configured proxy (HTTP CONNECT) or directly, then TLS for `wss://`. Every step is
/// bounded by the stage timeout and recorded as evidence.
final class Dialer: Sendable {
    let target: Target
    let timeout: Double
    let proxy: ProxyConfig?
    let group: any EventLoopGroup
    let tls: TLSBridge?
    private let cachedAddresses = NIOLockedValueBox<[SocketAddress]?>(nil)

    init(target: Target, timeout: Double, proxy: ProxyConfig?, group: any EventLoopGroup, tls: TLSBridge?) {
        self.target = target
        self.timeout = timeout
        self.proxy = proxy
        self.group = group
        self.tls = tls
    }

    /// Connects, runs `body` on the connection, closes it. Returns `nil` from `value`
    /// when the dial failed (the record says where) or `body` threw.
    func withConnection<T: Sendable>(
        _ body: @escaping @Sendable (Connection) async throws -> T
    ) async -> (record: DialRecord, value: T?) {
        var record = DialRecord()
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        let connectHost = proxy?.host ?? target.host
        let connectPort = proxy?.port ?? target.port

        // resolve
        let addresses: [SocketAddress]
        if proxy == nil, let cached = cachedAddresses.withLockedValue({ $0 }) {
            addresses = cached
        } else {
            let started = ContinuousClock.now
            let answer = await Resolver.resolve(host: connectHost, port: connectPort, timeout: timeout)
            var evidence = ResolveEvidence()
            evidence.literal = (try? SocketAddress(ipAddress: connectHost, port: 0)) != nil
            evidence.durationMs = started.elapsedMs
            evidence.ipv4 = answer.ipv4.compactMap(\.ipAddress)
            evidence.ipv6 = answer.ipv6.compactMap(\.ipAddress)
            evidence.failure = answer.failure
            if let proxy {
                var p = ProxyEvidence(url: proxy.displayURL, host: proxy.host, port: proxy.port, source: proxy.source)
                if let failure = answer.failure {
                    p.answerFailure = "the proxy host \(proxy.host) could not be resolved (\(failure))"
                    p.connectFailure = .unreachable
                    record.proxy = p
                    record.failedStage = .proxy
                    return (record, nil)
                }
                record.proxy = p
            } else {
                record.resolve = evidence
                if answer.failure != nil {
                    record.failedStage = .resolve
                    return (record, nil)
                }
            }
            addresses = Self.interleave(v6: answer.ipv6, v4: answer.ipv4)
            if proxy == nil { cachedAddresses.withLockedValue { $0 = addresses } }
        }

        // connect
        var connect = ConnectEvidence(port: connectPort)
        connect.viaProxy = proxy != nil
        let connectStarted = ContinuousClock.now
        let deadline = ContinuousClock.Instant.after(seconds: timeout)
        var opened: NIOAsyncChannel<ByteBuffer, ByteBuffer>?
        let candidates = Array(addresses.prefix(6))
        for (index, address) in candidates.enumerated() {
            let remaining = deadline - .now
            guard remaining > .zero else { break }
            // Broken IPv6 is common: an address that blackholes must not eat the whole budget,
            // so each attempt gets an equal share of what is left (the last one gets all of it).
            let share = remaining / (candidates.count - index)
            let attemptStarted = ContinuousClock.now
            do {
                opened = try await Self.open(address, group: group, timeout: share)
                connect.attempts.append(.init(address: address.ipAddress ?? "?", port: connectPort,
                                              durationMs: attemptStarted.elapsedMs, failure: nil))
                connect.connectedAddress = address.ipAddress
                break
            } catch {
                connect.attempts.append(.init(address: address.ipAddress ?? "?", port: connectPort,
                                              durationMs: attemptStarted.elapsedMs,
                                              failure: NetworkFailureClassifier.classify(error)))
            }
        }
        connect.durationMs = connectStarted.elapsedMs
        record.connect = connect
        guard let opened else {
            if proxy != nil {
                record.proxy?.connectFailure = connect.attempts.last?.failure ?? .timeout
                record.failedStage = .proxy
            } else {
                record.failedStage = .connect
            }
            return (record, nil)
        }
        channel = opened

        let tls = self.tls
        let proxy = self.proxy
        let target = self.target
        let timeout = self.timeout
        let recordBox = NIOLockedValueBox(record)
        let value: T? = try? await channel.executeThenClose { inbound, outbound in
            let inbox = Inbox()
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await chunk in inbound { await inbox.append(chunk) }
                        inbox.finish(.eof)
                    } catch {
                        inbox.finish(NetworkFailureClassifier.inboxEnd(error))
                    }
                }
                // The pump only ends when the inbound stream does: close the channel as soon
                // as the work is done, or the group would wait for the peer to hang up.
                defer {
                    channel.channel.close(promise: nil)
                    group.cancelAll()
                }
                var connection = Connection(channel: channel.channel, outbound: outbound, inbox: inbox, openedAt: .now)
                if let proxy {
                    let ok = await Self.tunnel(connection, to: target, via: proxy, timeout: timeout, record: recordBox)
                    guard ok else { return nil }
                }
                if target.secure, let tls {
                    let evidence = await tls.handshake(on: channel.channel, target: target, timeout: timeout)
                    recordBox.withLockedValue { $0.tls = evidence.evidence }
                    guard evidence.proceed else {
                        recordBox.withLockedValue { $0.failedStage = .tls }
                        return nil
                    }
                }
                connection = Connection(channel: channel.channel, outbound: outbound, inbox: inbox, openedAt: .now)
                return try await body(connection)
            }
        }
        return (recordBox.withLockedValue { $0 }, value)
    }

    /// Happy-eyeballs order without the racing: alternate families, IPv6 first.
    static func interleave(v6: [SocketAddress], v4: [SocketAddress]) -> [SocketAddress] {
        var out: [SocketAddress] = []
        for i in 0..<max(v6.count, v4.count) {
            if i < v6.count { out.append(v6[i]) }
            if i < v4.count { out.append(v4[i]) }
        }
        return out
    }

    private static func open(_ address: SocketAddress, group: any EventLoopGroup, timeout: Duration)
        async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer>
    {
        let ms = max(1, Int64(timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000))
        return try await ClientBootstrap(group: group)
            .connectTimeout(.milliseconds(ms))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(to: address) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 2, highWatermark: 16)))
                }
            }
    }

    /// HTTP CONNECT through the proxy. Records the proxy's answer; false when it refused.
    private static func tunnel(_ connection: Connection, to target: Target, via proxy: ProxyConfig, timeout: Double,
                               record: NIOLockedValueBox<DialRecord>) async -> Bool {
        let started = ContinuousClock.now
        let authority = target.isIPv6Literal ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
        var request = "CONNECT \(authority) HTTP/1.1\r\nHost: \(authority)\r\nUser-Agent: wsdoctor/\(ToolInfo.version)\r\n"
        if let credentials = proxy.credentials {
            request += "Proxy-Authorization: Basic \(Data(credentials.utf8).base64EncodedString())\r\n"
        }
        request += "\r\n"
        var evidence = record.withLockedValue { $0.proxy } ?? ProxyEvidence(
            url: proxy.displayURL, host: proxy.host, port: proxy.port, source: proxy.source)
        defer {
            evidence.durationMs = started.elapsedMs
            record.withLockedValue { $0.proxy = evidence }
        }
        do { try await connection.write(request) } catch {
            evidence.connectFailure = NetworkFailureClassifier.classify(error)
            record.withLockedValue { $0.failedStage = .proxy }
            return false
        }
        var parser = ResponseHeadParser(maxHeadBytes: 16 * 1024)
        switch await connection.readResponseHead(until: .after(seconds: timeout), parser: &parser) {
        case .head(let head, _):
            evidence.connectStatus = head.status
            evidence.connectReason = head.reason
            evidence.responseHead = head.raw
            if head.status / 100 == 2 { return true }
        case .failed(let failure, let printable):
            evidence.answerFailure = "\(failure)" + (printable.isEmpty ? "" : ": \(printable)")
        }
        record.withLockedValue { $0.failedStage = .proxy }
        return false
    }
}
