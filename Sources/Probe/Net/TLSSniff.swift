import Diagnosis
import NIOCore

/// Confirms a suspicion that a `ws://` URL points at a TLS port: attempts a TLS
/// handshake there. Servers differ in how they treat a plaintext request on a TLS port
/// (an alert, a silent close, a wait), but all of them complete a TLS handshake.
enum TLSSniff {
    static func speaksTLS(dialer: Dialer, target: Target) async -> Bool {
        let timeout = dialer.timeout
        let (_, value) = await dialer.withConnection { connection -> Bool in
            let outcome = await ClientTLS.handshake(
                on: connection.channel, serverHostname: target.host, timeout: .nanoseconds(Int64(timeout * 1e9)))
            return outcome.succeeded || !outcome.servedChain.isEmpty
        }
        return value ?? false
    }
}
