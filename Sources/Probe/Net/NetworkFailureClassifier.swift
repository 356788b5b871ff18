import Diagnosis
import Foundation
import NIOCore
import NIOPosix

/// Turns NIO and socket errors into the few classes the rules reason about.
enum NetworkFailureClassifier {
    static func classify(_ error: any Error) -> NetworkFailure {
        if let io = error as? IOError {
            switch io.errnoCode {
            // EACCES/EPERM: a local firewall or policy rejected the connection outright.
            case ECONNREFUSED, EACCES, EPERM: return .refused
            case ETIMEDOUT: return .timeout
            case ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: return .unreachable
            case ECONNRESET, EPIPE: return .reset
            default: return .other(String(cString: strerror(io.errnoCode)))
            }
        }
        if let channelError = error as? ChannelError {
            switch channelError {
            case .connectTimeout: return .timeout
            case .eof, .ioOnClosedChannel, .alreadyClosed, .outputClosed: return .closed
            default: return .other("\(channelError)")
            }
        }
        if let connection = error as? NIOConnectionError {
            if let first = connection.connectionErrors.first { return classify(first.error) }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return .other("name resolution failed") }
        }
        return .other(String(describing: error))
    }

    static func inboxEnd(_ error: any Error) -> Inbox.End {
        switch classify(error) {
        case .reset: return .reset
        case .closed: return .eof
        case .other(let text): return .error(text)
        case .refused: return .error("connection refused")
        case .timeout: return .error("timed out")
        case .unreachable: return .error("network unreachable")
        }
    }
}
