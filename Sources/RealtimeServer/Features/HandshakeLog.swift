import Foundation
import HTTPTypes
import Hummingbird
import NIOConcurrencyHelpers
import RealtimeCore

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

    /// The longest header value kept: enough for any real value, bounded against abuse.
    static let maxValueLength = 200

    /// From the request's headers. Only the headers the spec names are read, so
    /// credentials (`Authorization`, `Cookie`, a `token` in the query) are never kept;
    /// `path` must come without its query.
    init(fields: HTTPFields, path: String, upgrade: String?? = .none, at: Date = Date(), outcome: String, status: Int) {
        func value(_ name: HTTPField.Name) -> String? {
            fields[name].map { String($0.prefix(Self.maxValueLength)) }
        }
        self.init(
            at: at, path: String(path.prefix(Self.maxValueLength)),
            upgrade: upgrade.map { $0.map { String($0.prefix(Self.maxValueLength)) } } ?? value(.upgrade),
            connection: value(.connection), keyArrived: fields[.secWebSocketKey] != nil,
            version: value(.secWebSocketVersion), origin: value(.origin),
            via: fields[HTTPField.Name("Via")!] != nil,
            // RFC 7239's `Forwarded` says the same as X-Forwarded-For: a proxy relayed the request.
            forwardedFor: fields[HTTPField.Name("X-Forwarded-For")!] != nil || fields[HTTPField.Name("Forwarded")!] != nil,
            outcome: outcome, status: status)
    }

    /// The attempt as the spec writes it in `/api/handshakes`.
    var json: String {
        func text(_ s: String?) -> String { s.map(JSONText.quote) ?? "null" }
        let at = at.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        return #"{"at":\#(JSONText.quote(at)),"path":\#(JSONText.quote(path)),"upgrade":\#(text(upgrade)),"connection":\#(text(connection)),"key":\#(keyArrived),"version":\#(text(version)),"origin":\#(text(origin)),"via":\#(via),"forwardedFor":\#(forwardedFor),"outcome":\#(JSONText.quote(outcome)),"status":\#(status)}"#
    }
}

/// Upgrade attempts made with `?probe=NONCE`, kept `ttl` seconds (10 minutes), at most
/// `perNonce` (20, the newest) per nonce, at most 10,000 nonces and 20,000 attempts in
/// all (the nonces used longest ago are forgotten first). The rules are
/// `HandshakeLogBook`'s; this class makes them thread-safe.
public final class HandshakeLog: Sendable {
    private let book: NIOLockedValueBox<HandshakeLogBook<HandshakeAttempt>>

    public init(ttl: Double, perNonce: Int) {
        book = NIOLockedValueBox(HandshakeLogBook(ttl: ttl, perKey: perNonce))
    }

    public func record(nonce: String, _ attempt: HandshakeAttempt) {
        guard ProbeNonce.isValid(nonce) else { return }
        book.withLockedValue { $0.record(attempt, key: nonce, now: attempt.at.timeIntervalSince1970) }
    }

    /// The nonce's attempts younger than the TTL, oldest first.
    public func attempts(nonce: String, now: Date = Date()) -> [HandshakeAttempt] {
        book.withLockedValue { $0.entries(key: nonce, now: now.timeIntervalSince1970) }
    }
}
