import Diagnosis
import NIOCore
import NIOSSL

/// The client side of TLS, added to a channel that is already connected — directly, or through
/// an HTTP CONNECT tunnel whose handlers are done — so that the same code serves both paths.
///
/// The handshake accepts whatever chain the server serves and records it: trust, validity and
/// host name are judged afterwards from plain values (`CertificateInspector`, `TLSRules`). That
/// way a failure is named precisely (expired vs. untrusted vs. incomplete chain vs. wrong host)
/// instead of as one opaque "certificate verify failed", and `--insecure` can carry on.
public enum ClientTLS {
    /// Offered in ALPN: the WebSocket opening handshake is HTTP/1.1.
    public static let alpn = ["http/1.1"]

    /// Adds the TLS handlers at the front of the channel's pipeline and runs the handshake.
    ///
    /// The handlers go in at `.first`, in front of whatever the channel already has (typically the
    /// `NIOAsyncChannel` handlers), so bytes written through those handlers are encrypted and
    /// bytes read arrive decrypted: on success the channel carries plaintext application data.
    /// On failure the channel is closed (a half-done handshake leaves nothing usable).
    ///
    /// - Parameters:
    ///   - serverHostname: the URL's host; sent in SNI unless it is an IP literal.
    ///   - timeout: bound on the whole handshake.
    /// - Returns: the served chain and what was negotiated, or how it failed. Never throws: every
    ///   failure is evidence.
    public static func handshake(
        on channel: any Channel, serverHostname: String, timeout: TimeAmount
    ) async -> TLSHandshakeOutcome {
        let started = NIODeadline.now()
        let sni = sniName(for: serverHostname)
        var outcome = TLSHandshakeOutcome(serverName: sni)
        let context: NIOSSLContext
        switch sharedContext {
        case .success(let c): context = c
        case .failure(let error):
            outcome.failure = .other("TLS cannot be set up: \(error)")
            channel.close(promise: nil)
            return outcome
        }

        let loop = channel.eventLoop
        let promise = loop.makePromise(of: HandshakeObservation.self)
        loop.execute {
            let recorder = FirstBytesRecorder()
            let watcher = HandshakeWatcher(promise: promise, recorder: recorder)
            let bound = NIOLoopBound(watcher, eventLoop: loop)
            let timer = loop.scheduleTask(in: timeout) { bound.value.timedOut() }
            promise.futureResult.whenComplete { _ in timer.cancel() }
            do {
                let tls = try NIOSSLClientHandler(
                    context: context, serverHostname: sni,
                    customVerificationCallback: { certificates, verification in
                        // Record and accept: the chain is judged after the handshake, from what was served.
                        watcher.servedChain = certificates
                        verification.succeed(.certificateVerified)
                    })
                watcher.tls = tls
                try channel.pipeline.syncOperations.addHandlers([recorder, tls, watcher], position: .first)
            } catch {
                watcher.failBeforeStart(error)
            }
        }
        // The promise is always completed by the watcher (success, error, close or timer).
        let observation: HandshakeObservation
        do {
            observation = try await promise.futureResult.get()
        } catch {
            observation = HandshakeObservation(end: .failed(error), version: nil, servedChain: [], firstBytes: [])
        }

        outcome.durationMs = Double((NIODeadline.now() - started).nanoseconds) / 1_000_000
        outcome.servedChain = observation.servedChain
        // Before negotiation the handler reports the configured version, not the peer's.
        if case .completed = observation.end { outcome.version = observation.version.map(versionName) }
        if case .serverHello(let suite) = TLSRecordSniffer.read(observation.firstBytes) {
            outcome.cipher = TLSRecordSniffer.cipherSuiteName(suite)
        }
        if case .completed(let negotiated) = observation.end { outcome.alpn = negotiated }
        outcome.failure = TLSFailureClassifier.classify(observation.end, firstBytes: observation.firstBytes)
        if outcome.failure != nil { channel.close(promise: nil) }
        return outcome
    }

    /// The name for SNI: none for IP literals (RFC 6066 forbids them there), brackets and a
    /// trailing dot removed.
    static func sniName(for host: String) -> String? {
        var name = host
        if name.hasPrefix("["), name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name.contains(":") { return nil }
        if (try? SocketAddress(ipAddress: name, port: 0)) != nil { return nil }
        if name.hasSuffix(".") { name.removeLast() }
        return name.isEmpty ? nil : name
    }

    static func versionName(_ version: TLSVersion) -> String {
        switch version {
        case .tlsv1: "TLS 1.0"
        case .tlsv11: "TLS 1.1"
        case .tlsv12: "TLS 1.2"
        case .tlsv13: "TLS 1.3"
        }
    }

    /// One context per process: building it is costly, and every connection wants the same
    /// settings. TLS 1.0 is allowed on purpose, so an old server is reached and reported (a
    /// warning) rather than failing as "protocol version". No trust roots: the verification
    /// callback replaces BoringSSL's checks; `noHostnameVerification` keeps BoringSSL from
    /// checking the name itself (the rules do).
    static let sharedContext: Result<NIOSSLContext, any Error> = Result {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv1
        configuration.certificateVerification = .noHostnameVerification
        configuration.trustRoots = .certificates([])
        configuration.applicationProtocols = alpn
        return try NIOSSLContext(configuration: configuration)
    }
}
