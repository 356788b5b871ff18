import Diagnosis
import Foundation
import NIOCore
import NIOSSL

/// Turns how a handshake ended into the `HandshakeFailure` the rules reason about. The bytes the
/// server actually sent come first: they tell a plain HTTP answer or a clear-text alert apart
/// more reliably than BoringSSL's error stack, which only knows that the record was not TLS.
enum TLSFailureClassifier {
    static func classify(_ end: HandshakeObservation.End, firstBytes: [UInt8]) -> TLSEvidence.HandshakeFailure? {
        if case .completed = end { return nil }
        switch TLSRecordSniffer.read(firstBytes) {
        case .plaintext(let text): return .plaintextAnswer(text)
        case .alert(let name): return .alert(name)
        case .binary(let hex): return .other("the server answered with bytes that are not TLS (\(hex))")
        case .serverHello, .tls, .empty: break
        }
        switch end {
        case .completed: return nil
        case .timeout: return .timeout
        case .closed: return .closed
        case .failed(let error): return classify(error)
        }
    }

    static func classify(_ error: any Error) -> TLSEvidence.HandshakeFailure {
        switch error {
        case NIOSSLError.handshakeFailed(let boringError):
            return classify(boringError)
        case NIOSSLError.uncleanShutdown:
            return .closed
        case let error as IOError where error.errnoCode == ECONNRESET:
            return .other("connection reset by the server")
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed:
            return .closed
        default:
            return .other(String(describing: error))
        }
    }

    private static func classify(_ error: BoringSSLError) -> TLSEvidence.HandshakeFailure {
        let stack: NIOBoringSSLErrorStack
        switch error {
        case .sslError(let s), .unknownError(let s), .invalidSNIName(let s), .failedToSetALPN(let s): stack = s
        case .zeroReturn, .syscallError: return .closed
        default: return .other("TLS error \(error)")
        }
        if stack.contains(.eofDuringHandshake) { return .closed }
        let reasons = stack.compactMap { reasonCode(in: String(describing: $0)) }
        if let alert = reasons.first(where: { $0.contains("ALERT_") }) {
            return .alert(readable(String(alert[alert.range(of: "ALERT_")!.upperBound...])))
        }
        if let reason = reasons.first { return .other(readable(reason)) }
        return .other(stack.isEmpty ? "TLS error" : stack.map { String(describing: $0) }.joined(separator: "; "))
    }

    /// `SSLV3_ALERT_HANDSHAKE_FAILURE` out of BoringSSL's
    /// `error:10000410:SSL routines:OPENSSL_internal:SSLV3_ALERT_HANDSHAKE_FAILURE at file.c:123`.
    static func reasonCode(in text: String) -> String? {
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
        return text.split(separator: ":").compactMap { part -> String? in
            guard let word = part.split(separator: " ").first, word.contains("_"), word.count > 3,
                word.allSatisfy({ allowed.contains($0) })
            else { return nil }
            return String(word)
        }.last
    }

    /// `HANDSHAKE_FAILURE` → `handshake failure`.
    static func readable(_ code: String) -> String {
        code.lowercased().replacingOccurrences(of: "_", with: " ")
    }
}
