/// The identifiers of `../shared/spec/diagnosis.md`. The raw value is the contract:
/// scripts, the monitor and the browser page match on it. Never rename a case's raw value.
public enum CauseID: String, CaseIterable, Sendable, Codable, Hashable {
    case healthy
    case invalidTarget = "invalid-target"
    case dnsNoSuchHost = "dns-no-such-host"
    case dnsFailure = "dns-failure"
    case connectionRefused = "connection-refused"
    case connectTimeout = "connect-timeout"
    case networkUnreachable = "network-unreachable"
    case proxyUnreachable = "proxy-unreachable"
    case proxyAuthRequired = "proxy-auth-required"
    case proxyConnectDenied = "proxy-connect-denied"
    case tlsExpiredCertificate = "tls-expired-certificate"
    case tlsNotYetValidCertificate = "tls-not-yet-valid-certificate"
    case tlsUntrustedCertificate = "tls-untrusted-certificate"
    case tlsIncompleteChain = "tls-incomplete-chain"
    case tlsHostnameMismatch = "tls-hostname-mismatch"
    case tlsHandshakeFailure = "tls-handshake-failure"
    case tlsToPlaintextServer = "tls-to-plaintext-server"
    case plaintextToTLSServer = "plaintext-to-tls-server"
    case handshakeTimeout = "handshake-timeout"
    case notHTTP = "not-http"
    case redirect
    case routeNotFound = "route-not-found"
    case methodNotAllowed = "method-not-allowed"
    case authRequired = "auth-required"
    case originRejected = "origin-rejected"
    case upgradeHeadersStripped = "upgrade-headers-stripped"
    case upgradeIgnored = "upgrade-ignored"
    case middlewareBlocksUpgrade = "middleware-blocks-upgrade"
    case badGateway = "bad-gateway"
    case serviceUnavailable = "service-unavailable"
    case serverError = "server-error"
    case handshakeRejected = "handshake-rejected"
    case invalidAccept = "invalid-accept"
    case invalidUpgradeResponse = "invalid-upgrade-response"
    case subprotocolMismatch = "subprotocol-mismatch"
    case extensionMismatch = "extension-mismatch"
    case abnormalClosure = "abnormal-closure"
    case closedByServer = "closed-by-server"
    case idleTimeout = "idle-timeout"
    case pingUnanswered = "ping-unanswered"
    case messageTimeout = "message-timeout"
    case protocolViolation = "protocol-violation"

    /// The `data` keys the spec requires for this cause.
    public var requiredDataKeys: [String] {
        switch self {
        case .connectionRefused, .connectTimeout: ["port"]
        case .proxyConnectDenied: ["status"]
        case .tlsExpiredCertificate: ["notAfter"]
        case .tlsNotYetValidCertificate: ["notBefore"]
        case .tlsHostnameMismatch: ["names"]
        case .redirect: ["status", "location"]
        case .routeNotFound, .methodNotAllowed, .authRequired, .originRejected, .upgradeHeadersStripped,
            .upgradeIgnored, .middlewareBlocksUpgrade, .badGateway, .serviceUnavailable, .serverError,
            .handshakeRejected:
            ["status"]
        case .subprotocolMismatch: ["offered", "answered"]
        case .abnormalClosure: ["afterMs"]
        case .closedByServer: ["code", "reason"]
        case .idleTimeout: ["seconds"]
        case .protocolViolation: ["rule"]
        default: []
        }
    }
}
