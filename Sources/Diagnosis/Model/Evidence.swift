import Foundation

/// Everything the probe observed, as plain values. The probe fills it in and decides
/// nothing; `Diagnoser` reads it and names the cause. A `nil` stage did not run.
public struct Evidence: Sendable, Equatable {
    public var settings: ProbeSettingsSummary
    public var target: Target?
    public var targetError: String?
    public var startedAt: Date
    public var durationMs: Double = 0
    public var proxy: ProxyEvidence?
    public var resolve: ResolveEvidence?
    public var connect: ConnectEvidence?
    public var tls: TLSEvidence?
    public var health: HealthEvidence?
    public var handshake: HandshakeEvidence?
    /// Confirmations made after a suspicious handshake answer (see `Confirmations`).
    public var confirmations = Confirmations()
    public var exchange: ExchangeEvidence?
    public var idle: IdleEvidence?
    public var close: CloseEvidence?
    public var fallback: FallbackEvidence?

    public init(settings: ProbeSettingsSummary, startedAt: Date) {
        self.settings = settings
        self.startedAt = startedAt
    }
}

/// The options that change how the evidence must be read.
public struct ProbeSettingsSummary: Sendable, Equatable {
    public var timeoutSeconds: Double
    public var idleSeconds: Double
    public var origin: String?
    public var subprotocols: [String]
    public var sendText: String?
    public var expectPattern: String?
    public var insecure: Bool
    public var extraHeaderNames: [String]
    /// The URL as given (reported when it could not be parsed).
    public var rawURL: String = ""
    public var healthDisabled = false

    public init(
        timeoutSeconds: Double = 10, idleSeconds: Double = 0, origin: String? = nil, subprotocols: [String] = [],
        sendText: String? = nil, expectPattern: String? = nil, insecure: Bool = false, extraHeaderNames: [String] = []
    ) {
        self.timeoutSeconds = timeoutSeconds
        self.idleSeconds = idleSeconds
        self.origin = origin
        self.subprotocols = subprotocols
        self.sendText = sendText
        self.expectPattern = expectPattern
        self.insecure = insecure
        self.extraHeaderNames = extraHeaderNames
    }
}

/// How a network wait ended when it did not succeed.
public enum NetworkFailure: Sendable, Equatable {
    case refused
    case timeout
    case unreachable
    case reset
    case closed
    case other(String)
}

public struct ProxyEvidence: Sendable, Equatable {
    /// Proxy URL with credentials removed.
    public var url: String
    public var host: String
    public var port: Int
    /// Where it came from: `--proxy` or the environment variable's name.
    public var source: String
    public var durationMs: Double = 0
    /// Failure to reach the proxy itself.
    public var connectFailure: NetworkFailure?
    /// The proxy's answer to CONNECT.
    public var connectStatus: Int?
    public var connectReason: String?
    public var responseHead: String?
    /// Bytes that do not parse as an HTTP answer, or no answer in time.
    public var answerFailure: String?

    public init(url: String, host: String, port: Int, source: String) {
        self.url = url
        self.host = host
        self.port = port
        self.source = source
    }
}

public struct ResolveEvidence: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        case noSuchHost
        case noAddresses
        case timeout
        case failure(String)
    }
    public var ipv4: [String] = []
    public var ipv6: [String] = []
    public var durationMs: Double = 0
    public var failure: Failure?
    /// The host was an IP literal: nothing to resolve.
    public var literal = false

    public init() {}
}

public struct ConnectEvidence: Sendable, Equatable {
    public struct Attempt: Sendable, Equatable {
        public var address: String
        public var port: Int
        public var durationMs: Double
        public var failure: NetworkFailure?
        public init(address: String, port: Int, durationMs: Double, failure: NetworkFailure?) {
            self.address = address
            self.port = port
            self.durationMs = durationMs
            self.failure = failure
        }
    }
    public var attempts: [Attempt] = []
    /// Address actually connected (the proxy's when one is used).
    public var connectedAddress: String?
    public var port: Int
    public var viaProxy = false
    public var durationMs: Double = 0

    public init(port: Int) { self.port = port }
}

/// A certificate as served, described in plain values.
public struct CertificateSummary: Sendable, Equatable {
    public var subject: String
    public var issuer: String
    public var serial: String
    public var notBefore: Date
    public var notAfter: Date
    public var dnsNames: [String]
    public var ipAddresses: [String]
    public var isCA: Bool
    /// Subject equals issuer (a root or a self-signed leaf).
    public var selfIssued: Bool
    public var sha256: String
    /// Where to fetch the issuer (Authority Information Access), if the certificate says.
    public var issuerURLs: [String]

    public init(
        subject: String, issuer: String, serial: String, notBefore: Date, notAfter: Date, dnsNames: [String],
        ipAddresses: [String], isCA: Bool, selfIssued: Bool, sha256: String, issuerURLs: [String] = []
    ) {
        self.subject = subject
        self.issuer = issuer
        self.serial = serial
        self.notBefore = notBefore
        self.notAfter = notAfter
        self.dnsNames = dnsNames
        self.ipAddresses = ipAddresses
        self.isCA = isCA
        self.selfIssued = selfIssued
        self.sha256 = sha256
        self.issuerURLs = issuerURLs
    }
}

/// What chain building from the served certificates to a trusted root found, validity
/// times and host names aside (those are judged by the rules from the summaries).
public enum TrustResult: Sendable, Equatable {
    /// A chain to a trusted root was built.
    case trusted(root: String)
    /// The leaf signs itself and is not a trusted root.
    case selfSigned
    /// The served chain ends in a root that is not trusted (a private or unknown CA).
    case unknownRoot(String)
    /// The last served certificate's issuer was neither served nor a trusted root:
    /// usually a missing intermediate.
    case missingIssuer(String)
    /// Chain building failed for another reason (bad signature, policy).
    case failed(String)
}

public struct TLSEvidence: Sendable, Equatable {
    public enum HandshakeFailure: Sendable, Equatable {
        /// The server answered the ClientHello with plaintext (HTTP, usually).
        case plaintextAnswer(String)
        case alert(String)
        case timeout
        case closed
        case other(String)
    }
    public var durationMs: Double = 0
    public var version: String?
    public var alpn: String?
    public var cipher: String?
    public var serverName: String?
    /// As served, leaf first.
    public var chain: [CertificateSummary] = []
    public var trust: TrustResult?
    public var handshakeFailure: HandshakeFailure?
    /// Roots added with `--ca-file`.
    public var extraRoots: Int = 0
    /// When the checks were made (validity is judged against this).
    public var checkedAt: Date

    public init(checkedAt: Date) { self.checkedAt = checkedAt }
}

/// An HTTP response head, as received.
public struct ResponseHead: Sendable, Equatable {
    public var version: String
    public var status: Int
    public var reason: String
    public var headers: [(String, String)]
    /// The head as received (header block), for the transcript.
    public var raw: String

    public init(version: String, status: Int, reason: String, headers: [(String, String)], raw: String) {
        self.version = version
        self.status = status
        self.reason = reason
        self.headers = headers
        self.raw = raw
    }

    /// First value of a header, case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.first(where: { $0.0.caseInsensitiveCompare(name) == .orderedSame })?.1
    }

    /// All values of a header (each comma-list element separately), case-insensitive name.
    public func headerTokens(_ name: String) -> [String] {
        headers.filter { $0.0.caseInsensitiveCompare(name) == .orderedSame }
            .flatMap { $0.1.split(separator: ",") }
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }

    public static func == (lhs: ResponseHead, rhs: ResponseHead) -> Bool {
        lhs.version == rhs.version && lhs.status == rhs.status && lhs.reason == rhs.reason && lhs.raw == rhs.raw
            && lhs.headers.map(\.0) == rhs.headers.map(\.0) && lhs.headers.map(\.1) == rhs.headers.map(\.1)
    }
}

/// One HTTP exchange that is not the upgrade itself (health, discovery, confirmation, fallback).
public struct HTTPCheck: Sendable, Equatable {
    public var url: String
    public var durationMs: Double = 0
    public var response: ResponseHead?
    /// First bytes of the body (bounded), as text.
    public var bodySnippet: String?
    public var failure: String?

    public init(url: String) { self.url = url }
}

public struct HealthEvidence: Sendable, Equatable {
    /// Every URL tried, in order (`auto` tries several).
    public var checks: [HTTPCheck] = []
    public init() {}
    /// The check that answered 2xx, if any.
    public var healthy: HTTPCheck? { checks.first { ($0.response?.status ?? 0) / 100 == 2 } }
    /// Did any plain HTTP request get an HTTP answer at all?
    public var anyHTTPAnswer: Bool { checks.contains { $0.response != nil } }
}

public struct HandshakeEvidence: Sendable, Equatable {
    public enum Failure: Sendable, Equatable {
        /// Nothing (or an incomplete head) before the timeout.
        case timeout(bytesReceived: Int)
        /// The connection closed before a complete response head.
        case closed(bytesReceived: Int)
        case reset(bytesReceived: Int)
        /// The bytes are not an HTTP response (banner shown as printable text).
        case notHTTP(String)
        /// The answer looks like a TLS record: a TLS server on a ws:// URL.
        case tlsAnswer
        /// The head grew past the limit without ending.
        case headTooLarge(Int)
    }
    /// The raw request as sent (credentials redacted in the report).
    public var request: String
    public var key: String
    public var expectedAccept: String
    public var offeredSubprotocols: [String]
    public var offeredExtensions: [String]
    public var origin: String?
    public var durationMs: Double = 0
    public var response: ResponseHead?
    public var bodySnippet: String?
    public var failure: Failure?

    public init(request: String, key: String, expectedAccept: String, offeredSubprotocols: [String],
                offeredExtensions: [String], origin: String?) {
        self.request = request
        self.key = key
        self.expectedAccept = expectedAccept
        self.offeredSubprotocols = offeredSubprotocols
        self.offeredExtensions = offeredExtensions
        self.origin = origin
    }
}

/// Extra requests made to confirm a suspicion before accusing.
public struct Confirmations: Sendable, Equatable {
    /// The same upgrade, without `Origin` (made after a 403 with `Origin`).
    public var withoutOrigin: HandshakeEvidence?
    /// A plain GET of the WebSocket path, without upgrade headers.
    public var plainGet: HTTPCheck?
    /// What a wsdoctor server's handshake log saw of our attempt (`/api/handshakes`).
    public var serverView: ServerHandshakeView?
    /// For `ws://` answered with silence, a close or a TLS record: did a TLS handshake
    /// on the same port succeed? (`true` proves a TLS port.)
    public var speaksTLS: Bool?
    public init() {}
}

/// One attempt as a wsdoctor server logged it.
public struct ServerHandshakeView: Sendable, Equatable {
    public var upgrade: String?
    public var connection: String?
    public var keyArrived: Bool
    public var version: String?
    public var origin: String?
    public var via: Bool
    public var forwardedFor: Bool
    public var outcome: String
    public var status: Int?
    public init(upgrade: String?, connection: String?, keyArrived: Bool, version: String?, origin: String?,
                via: Bool, forwardedFor: Bool, outcome: String, status: Int?) {
        self.upgrade = upgrade
        self.connection = connection
        self.keyArrived = keyArrived
        self.version = version
        self.origin = origin
        self.via = via
        self.forwardedFor = forwardedFor
        self.outcome = outcome
        self.status = status
    }
}

/// How a WebSocket connection ended, if it did, during a stage.
public enum ConnectionEnd: Sendable, Equatable {
    /// The server sent a close frame.
    case closeFrame(code: Int?, reason: String, afterMs: Double)
    /// TCP ended (FIN) without a close frame.
    case eof(afterMs: Double)
    case reset(afterMs: Double)
    /// The server's frames broke RFC 6455; `rule` names how.
    case violation(rule: String, detail: String, afterMs: Double)
}

public struct ExchangeEvidence: Sendable, Equatable {
    public var durationMs: Double = 0
    public var pingRoundTripMs: Double?
    public var pingTimedOut = false
    public var sentText: String?
    public var reply: String?
    public var replyRoundTripMs: Double?
    public var replyMatched: Bool?
    public var replyTimedOut = false
    /// Text/binary messages that arrived unprompted (counted, first few kept).
    public var unsolicitedMessages = 0
    public var serverPings = 0
    public var end: ConnectionEnd?
    public init() {}
}

public struct IdleEvidence: Sendable, Equatable {
    public var requestedSeconds: Double
    /// How long the connection stayed open and silent.
    public var heldSeconds: Double = 0
    public var serverPings = 0
    public var messagesReceived = 0
    /// Seconds since the last frame in either direction when the connection ended.
    public var silentSecondsAtEnd: Double?
    public var end: ConnectionEnd?
    public init(requestedSeconds: Double) { self.requestedSeconds = requestedSeconds }
}

public struct CloseEvidence: Sendable, Equatable {
    public enum Initiator: String, Sendable, Equatable { case client, server, none }
    public var initiatedBy: Initiator
    public var code: Int?
    public var reason: String
    /// Both close frames exchanged and then TCP closed.
    public var clean: Bool
    /// We sent a close and the server did not answer it in time.
    public var unanswered = false
    public var durationMs: Double = 0
    public init(initiatedBy: Initiator, code: Int?, reason: String, clean: Bool) {
        self.initiatedBy = initiatedBy
        self.code = code
        self.reason = reason
        self.clean = clean
    }
}

public struct FallbackEvidence: Sendable, Equatable {
    public struct TransportCheck: Sendable, Equatable {
        public var url: String
        public var works: Bool
        public var status: Int?
        public var durationMs: Double
        public var detail: String
        public init(url: String, works: Bool, status: Int?, durationMs: Double, detail: String) {
            self.url = url
            self.works = works
            self.status = status
            self.durationMs = durationMs
            self.detail = detail
        }
    }
    /// `/api/realtime` answered with the wsdoctor protocol.
    public var discovered = false
    public var discovery: HTTPCheck?
    public var sse: TransportCheck?
    public var poll: TransportCheck?
    public var durationMs: Double = 0
    public init() {}
}
