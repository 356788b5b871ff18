import Diagnosis

/// What the client side of one TLS handshake saw, before any judgement: the chain exactly as
/// served (leaf first, DER), what was negotiated, and how the handshake failed if it did.
/// `TLSEvidenceBuilder` turns it into `TLSEvidence`.
public struct TLSHandshakeOutcome: Sendable, Equatable {
    /// As served, leaf first. Present even when the handshake failed after the certificates arrived.
    public var servedChain: [[UInt8]]
    /// `TLS 1.3`, `TLS 1.2`, ...
    public var version: String?
    public var alpn: String?
    /// IANA name of the cipher suite, read from the server's hello.
    public var cipher: String?
    /// The name sent in SNI; `nil` for IP literals, which SNI cannot carry.
    public var serverName: String?
    public var durationMs: Double
    public var failure: TLSEvidence.HandshakeFailure?

    /// The channel now carries plaintext application data through the TLS handler.
    public var succeeded: Bool { failure == nil }

    public init(
        servedChain: [[UInt8]] = [], version: String? = nil, alpn: String? = nil, cipher: String? = nil,
        serverName: String? = nil, durationMs: Double = 0, failure: TLSEvidence.HandshakeFailure? = nil
    ) {
        self.servedChain = servedChain
        self.version = version
        self.alpn = alpn
        self.cipher = cipher
        self.serverName = serverName
        self.durationMs = durationMs
        self.failure = failure
    }
}
