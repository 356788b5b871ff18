import Foundation
import RealtimeCore

/// Everything `wsdoctor serve` can be told. Every limit of the realtime spec is here
/// with its default; the CLI turns flags into this value after checking them.
public struct ServerConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// Where reports (SQLite) are kept.
    public var dataDirectory = URL(fileURLWithPath: "wsdoctor-data", isDirectory: true)
    public var limits = RealtimeLimits()
    /// Origins allowed besides same-origin requests and requests without `Origin`.
    public var allowedOrigins: [String] = []
    public var publishToken: String?
    public var adminToken: String?
    public var faults: [SimulatedFault] = []
    public var version = "0.1.0"

    public init() {}

    /// Mailboxes must hold a full replay plus a burst of live messages.
    var mailboxCapacity: Int { max(limits.maxQueuedMessages, limits.history.size + 64) }

    func fault<T>(_ pick: (SimulatedFault) -> T?) -> T? { faults.lazy.compactMap(pick).first }
    func has(_ fault: SimulatedFault) -> Bool { faults.contains(fault) }
}

/// A failure real networks produce, simulated so clients and the debug page can be
/// watched coping with it (`--simulate`, repeatable).
public enum SimulatedFault: Hashable, Sendable, CustomStringConvertible {
    /// Answer upgrades as a server behind a proxy that dropped the headers: 400.
    case stripUpgrade
    /// Answer upgrades with 200 and an HTML page.
    case swallowUpgrade
    /// Close TCP right after 101, no close frame.
    case dropAfterUpgrade
    /// Cut WebSocket connections that were silent this long (seconds), no close frame.
    case idleCut(Double)
    /// Never answer WebSocket pings.
    case noPong
    /// Wait this long (seconds) before answering an upgrade.
    case slowHandshake(Double)
    case blockSSE
    case blockPoll
    /// Refuse every cross-origin request, even allowed origins.
    case rejectOrigin
    /// Add this delay (seconds) to every HTTP answer and WebSocket message.
    case latency(Double)

    public static let catalogue: [(name: String, help: String)] = [
        ("strip-upgrade", "answer upgrades with 400 as a server behind a proxy that dropped the Upgrade headers"),
        ("swallow-upgrade", "answer upgrades with 200 and an HTML page (a catch-all route in front of the socket)"),
        ("drop-after-upgrade", "close TCP right after 101, without a close frame (browsers: 1006)"),
        ("idle-cut=DURATION", "cut WebSocket connections silent that long, without a close frame (a load balancer's idle timeout)"),
        ("no-pong", "never answer WebSocket pings"),
        ("slow-handshake=DURATION", "wait that long before answering an upgrade"),
        ("block-sse", "answer /sse with 403, as a proxy blocking event streams"),
        ("block-poll", "answer /poll with 403"),
        ("reject-origin", "refuse every cross-origin request with 403"),
        ("latency=DURATION", "delay every HTTP answer and WebSocket message by DURATION"),
    ]

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    /// `name` or `name=DURATION`; `duration` parses the DURATION part to seconds.
    public static func parse(_ text: String, duration: (String) throws -> Double) throws -> SimulatedFault {
        let parts = text.split(separator: "=", maxSplits: 1).map(String.init)
        let name = parts.first ?? ""
        func seconds() throws -> Double {
            guard parts.count == 2 else { throw ParseError(description: "--simulate \(name) needs a duration: \(name)=5s") }
            let value = try duration(parts[1])
            guard value > 0 else { throw ParseError(description: "--simulate \(name): the duration must be more than 0") }
            return value
        }
        func bare(_ fault: SimulatedFault) throws -> SimulatedFault {
            guard parts.count == 1 else { throw ParseError(description: "--simulate \(name) takes no value") }
            return fault
        }
        switch name {
        case "strip-upgrade": return try bare(.stripUpgrade)
        case "swallow-upgrade": return try bare(.swallowUpgrade)
        case "drop-after-upgrade": return try bare(.dropAfterUpgrade)
        case "idle-cut": return .idleCut(try seconds())
        case "no-pong": return try bare(.noPong)
        case "slow-handshake": return .slowHandshake(try seconds())
        case "block-sse": return try bare(.blockSSE)
        case "block-poll": return try bare(.blockPoll)
        case "reject-origin": return try bare(.rejectOrigin)
        case "latency": return .latency(try seconds())
        default:
            throw ParseError(description: "--simulate '\(text.prefix(40))' is not a known fault: \(catalogue.map { $0.name }.joined(separator: ", "))")
        }
    }

    public var description: String {
        switch self {
        case .stripUpgrade: "strip-upgrade"
        case .swallowUpgrade: "swallow-upgrade"
        case .dropAfterUpgrade: "drop-after-upgrade"
        case .idleCut(let s): "idle-cut=\(s)s"
        case .noPong: "no-pong"
        case .slowHandshake(let s): "slow-handshake=\(s)s"
        case .blockSSE: "block-sse"
        case .blockPoll: "block-poll"
        case .rejectOrigin: "reject-origin"
        case .latency(let s): "latency=\(s)s"
        }
    }
}
