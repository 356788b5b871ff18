import Foundation

/// What the server saw of one upgrade attempt on `/ws` or `/echo` (credentials never).
public struct HandshakeAttempt: Sendable, Equatable {
    public var at: Date
    public var path: String
    public var upgrade: String?
    public var connection: String?
    public var keyArrived: Bool
    public var version: String?
    public var origin: String?
    public var via: Bool
    public var forwardedFor: Bool
    /// `upgraded` or `rejected`.
    public var outcome: String
    public var status: Int

    public init(at: Date, path: String, upgrade: String?, connection: String?, keyArrived: Bool, version: String?,
                origin: String?, via: Bool, forwardedFor: Bool, outcome: String, status: Int) {
        self.at = at
        self.path = path
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

/// Upgrade attempts made with `?probe=NONCE`, kept 10 minutes, at most 20 per nonce
/// (shell: records nothing yet).
public final class HandshakeLog: Sendable {
    public init(ttl: Double, perNonce: Int) {}
    public func record(nonce: String, _ attempt: HandshakeAttempt) {}
    public func attempts(nonce: String, now: Date = Date()) -> [HandshakeAttempt] { [] }
}
