/// What one WebSocket close code (or range of codes) means, who may send it and what to do
/// about it. Developers meet these numbers in `CloseEvent.code` with no explanation;
/// `wsdoctor explain` and the report's close stage read them from here.
public struct CloseCodeInfo: Sendable, Equatable {
    /// The code asked about (for a range entry in `CloseCodes.all`: the range's first code).
    public var code: Int
    /// The codes this entry describes: a single code, or a whole range (e.g. 4000...4999).
    public var range: ClosedRange<Int>
    public var name: String
    public var meaning: String
    /// Who may send it: "either endpoint", "server", "never sent: set locally by the client library", …
    public var sentBy: String
    /// Whether a close frame may carry this code (RFC 6455 §7.4); `false` for codes that
    /// only exist in APIs (1005, 1006, 1015), reserved and invalid ones.
    public var onWire: Bool
    public var causes: [String]
    public var fixes: [String]

    public init(
        code: Int, range: ClosedRange<Int>? = nil, name: String, meaning: String, sentBy: String, onWire: Bool,
        causes: [String], fixes: [String]
    ) {
        self.code = code
        self.range = range ?? code...code
        self.name = name
        self.meaning = meaning
        self.sentBy = sentBy
        self.onWire = onWire
        self.causes = causes
        self.fixes = fixes
    }

    /// True when this entry covers a range of codes rather than one registered code.
    public var isRange: Bool { range.lowerBound != range.upperBound }
}

/// The close code registry (RFC 6455 §7.4 and the IANA "WebSocket Close Code Number"
/// registry), with the causes and fixes seen in real deployments.
public enum CloseCodes {
    /// The entry for `code`:
    /// - 1000–1015, and the well-known 3000, 3003, 3008, 4400, 4401, 4408, 4429: their own entry;
    /// - other codes in 1016–2999, 3000–3999, 4000–4999: the range's entry, with `code` set to `code`;
    /// - 0–999 and 5000–65535 (they fit in a close frame but are never valid): an entry named
    ///   "Invalid close code" with `onWire == false`;
    /// - `nil` for negative numbers and numbers above 65535, which no close frame can carry.
    public static func info(_ code: Int) -> CloseCodeInfo? {
        guard (0...65535).contains(code) else { return nil }
        if let single = singles.first(where: { $0.code == code }) { return single }
        guard var entry = ranges.first(where: { $0.range.contains(code) }) else { return nil }
        entry.code = code
        return entry
    }

    /// Every entry, ordered by code: single codes and range entries (ranges first when
    /// they start at the same code), including the two invalid ranges.
    public static var all: [CloseCodeInfo] {
        (singles + ranges).sorted {
            ($0.range.lowerBound, -$0.range.count) < ($1.range.lowerBound, -$1.range.count)
        }
    }

    /// Whether an endpoint may send `code` in a close frame (RFC 6455 §7.4.1–7.4.2, IANA
    /// registry): 1000–1003, 1007–1014 and 3000–4999. Not 1004 (reserved), 1005, 1006 and
    /// 1015 (local-only), 1016–2999 (reserved for the protocol), nor anything below 1000
    /// or above 4999. A peer that receives another code fails the connection with 1002.
    public static func isValidOnWire(_ code: Int) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: true
        default: false
        }
    }

    // MARK: - Entries

    private static let singles: [CloseCodeInfo] = registered + wellKnownPrivate

    private static let registered: [CloseCodeInfo] = [
        CloseCodeInfo(
            code: 1000, name: "Normal Closure",
            meaning: "The connection did its job and was closed on purpose. Nothing went wrong at the protocol level.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "The application called close() (logout, page finished with the socket, job done)",
                "The server ends sessions on purpose (session expiry, a maximum connection age)",
            ],
            fixes: [
                "If the close was unexpected, log the close reason on both sides to see who called close() and why",
                "If the application needs a long-lived connection, reconnect when it closes",
            ]),
        CloseCodeInfo(
            code: 1001, name: "Going Away",
            meaning: "An endpoint is going away: the server is shutting down or restarting, or the browser is leaving the page.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "A deploy or restart: the server closes its connections before exiting",
                "A load balancer or proxy draining connections",
                "The user closed the tab or navigated away (browsers send 1001)",
            ],
            fixes: [
                "Expected during deploys: reconnect with exponential backoff and random jitter so clients do not stampede",
                "Resume from the last message received so nothing is lost across the reconnect",
            ]),
        CloseCodeInfo(
            code: 1002, name: "Protocol Error",
            meaning: "The endpoint received something that breaks the WebSocket protocol and terminated the connection.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "Malformed frames: an unmasked client frame, a masked server frame, reserved bits set, an unknown opcode",
                "A fragmented or oversized control frame, or an invalid close code",
                "A bug in a hand-written WebSocket implementation, or an intermediary altering frames",
            ],
            fixes: [
                "Run `wsdoctor diagnose URL`: a protocol-violation cause names the rule that was broken",
                "Use a maintained WebSocket library on both sides and update it",
                "Use wss:// so intermediaries cannot touch the frames",
            ]),
        CloseCodeInfo(
            code: 1003, name: "Unsupported Data",
            meaning: "The endpoint received a type of data it cannot accept, e.g. binary messages when it only understands text.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "Sending binary frames (ArrayBuffer, Blob, bytes) to a text-only endpoint, or text to a binary-only one",
            ],
            fixes: [
                "Send the message type the peer expects: `ws.send(JSON.stringify(obj))` for text, an ArrayBuffer for binary",
                "Check the server's message handler accepts both types if clients send both",
            ]),
        CloseCodeInfo(
            code: 1004, name: "Reserved",
            meaning: "Reserved by RFC 6455 with no meaning defined. No endpoint may send it.",
            sentBy: "never sent: reserved by RFC 6455", onWire: false,
            causes: ["A buggy library or application chose it as a custom code"],
            fixes: ["Use 1000 for a normal close, or a code in 4000–4999 for application-defined reasons"]),
        CloseCodeInfo(
            code: 1005, name: "No Status Received",
            meaning: "A close frame arrived without a status code. This code never appears on the wire: "
                + "the receiving library reports it locally because there was no code to report.",
            sentBy: "never sent: set locally by the receiving library when a close frame had no code", onWire: false,
            causes: [
                "The peer closed with an empty close frame (allowed by RFC 6455; some libraries do this for close() without arguments)",
            ],
            fixes: [
                "Send an explicit code when closing: `ws.close(1000, \"done\")`",
                "Treat it like 1000 if the close was expected",
            ]),
        CloseCodeInfo(
            code: 1006, name: "Abnormal Closure",
            meaning: "The connection ended without a close frame: the TCP connection was closed or reset, or never became a WebSocket. "
                + "This code never appears on the wire; the client library sets it because no close frame arrived.",
            sentBy: "never sent: set locally by the client library when the connection ends without a close frame", onWire: false,
            causes: [
                "A proxy or load balancer cut a connection that looked idle (nginx 60 s, AWS ALB 60 s, Heroku 55 s, Cloudflare 100 s)",
                "The server process crashed, was OOM-killed or restarted without closing its connections",
                "Network loss: Wi-Fi or mobile network change, laptop sleep, VPN reconnect, NAT entry expired",
                "In browsers, a failed opening handshake (TLS certificate error, 4xx/5xx answer, proxy or firewall block) is also reported as 1006: the browser hides the real reason",
            ],
            fixes: [
                "Run `wsdoctor diagnose URL --idle 120s`: it shows whether the handshake works, and whether and when an idle connection is cut",
                "Send a ping every 20–30 s (server side) so intermediaries see traffic and dead peers are detected",
                "Check the server's logs for crashes and restarts at the time of the close",
                "In the browser's devtools Network tab (filter WS), look at the handshake's status to tell a failed upgrade from a dropped connection",
                "Reconnect with exponential backoff and jitter, resuming from the last message received",
            ]),
        CloseCodeInfo(
            code: 1007, name: "Invalid Frame Payload Data",
            meaning: "The endpoint received data inconsistent with the message type: most often a text message that is not valid UTF-8.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "Binary data sent as a text message",
                "A string cut in the middle of a multi-byte character before sending",
                "A server written in a language whose strings are not UTF-8 (Latin-1, UTF-16) sending them as text frames",
            ],
            fixes: [
                "Send non-text data as binary messages",
                "Encode text as UTF-8 before framing, and never split a message inside a character",
            ]),
        CloseCodeInfo(
            code: 1008, name: "Policy Violation",
            meaning: "The endpoint refuses a message or the connection because it violates its policy. "
                + "A generic code used when no more specific one fits (authentication, authorisation, origin, abuse).",
            sentBy: "either endpoint (in practice servers)", onWire: true,
            causes: [
                "Authentication or authorisation failed after the connection opened (token expired, missing permission)",
                "Origin not allowed, or a message type the client may not send",
                "Abuse detection or rate limiting",
            ],
            fixes: [
                "Read the close reason: servers usually say which policy was violated",
                "Check the credentials, the page's origin and the messages the client sends",
                "Do not reconnect in a tight loop after 1008: the same request will be refused again",
            ]),
        CloseCodeInfo(
            code: 1009, name: "Message Too Big",
            meaning: "The endpoint received a message too big for it to process.",
            sentBy: "either endpoint", onWire: true,
            causes: [
                "A message larger than the receiver's configured limit (gorilla `SetReadLimit`, Node ws `maxPayload`, servlet container buffer sizes)",
                "Large payloads (files, images, big JSON documents) sent as a single message",
            ],
            fixes: [
                "Raise the receiver's message size limit if the size is legitimate",
                "Split large data into smaller messages, or upload it over HTTP and send a reference",
            ]),
        CloseCodeInfo(
            code: 1010, name: "Mandatory Extension",
            meaning: "The client expected the server to negotiate one or more extensions and the server did not; the reason lists them.",
            sentBy: "client", onWire: true,
            causes: ["The client requires an extension (e.g. permessage-deflate) that the server or a proxy did not accept"],
            fixes: [
                "Enable the extension on the server, or make the client accept a connection without it",
                "Check a proxy is not stripping `Sec-WebSocket-Extensions`",
            ]),
        CloseCodeInfo(
            code: 1011, name: "Internal Error",
            meaning: "The server hit an unexpected condition that prevented it from fulfilling the request, usually an exception in the handler.",
            sentBy: "server (the RFC 6455 errata allows either endpoint)", onWire: true,
            causes: [
                "An unhandled exception in the WebSocket message handler",
                "A backend the handler depends on (database, queue, another service) failed",
            ],
            fixes: [
                "Read the server's log at the time of the close: the stack trace names the failing code",
                "Reconnect with backoff; if it repeats on the same message, the message triggers the bug",
            ]),
        CloseCodeInfo(
            code: 1012, name: "Service Restart",
            meaning: "The server is restarting. The client may reconnect, and should wait a few seconds (with random jitter) before doing so.",
            sentBy: "server", onWire: true,
            causes: ["A deploy, a configuration reload or a planned restart"],
            fixes: ["Reconnect after a randomised delay of a few seconds, then resume from the last message received"]),
        CloseCodeInfo(
            code: 1013, name: "Try Again Later",
            meaning: "The server is temporarily unable to serve the connection (overload, maintenance). The client should retry later.",
            sentBy: "server", onWire: true,
            causes: ["The server or one of its backends is overloaded or in maintenance", "Connection or rate limits reached"],
            fixes: [
                "Retry with exponential backoff and jitter",
                "Check the server's capacity and connection limits",
            ]),
        CloseCodeInfo(
            code: 1014, name: "Bad Gateway",
            meaning: "The server was acting as a gateway or proxy and received an invalid response from the server behind it.",
            sentBy: "server (a gateway or proxy)", onWire: true,
            causes: ["The upstream WebSocket server behind a gateway failed, closed unexpectedly or answered invalidly"],
            fixes: [
                "Check the upstream service behind the gateway and its logs",
                "Run `wsdoctor diagnose` against the upstream directly, bypassing the gateway",
            ]),
        CloseCodeInfo(
            code: 1015, name: "TLS Handshake",
            meaning: "The TLS handshake failed, e.g. the server's certificate could not be verified. "
                + "This code never appears on the wire: the library reports it locally because no WebSocket connection was ever established.",
            sentBy: "never sent: set locally by the client library when TLS fails", onWire: false,
            causes: [
                "An expired, self-signed or untrusted certificate, or one issued for another host name",
                "The server does not send its intermediate certificate (works in desktop browsers, fails elsewhere)",
                "No TLS version or cipher in common; a TLS-inspecting proxy re-signing traffic",
            ],
            fixes: [
                "Run `wsdoctor diagnose wss://HOST/PATH`: the tls stage names the exact certificate problem",
                "Serve the full chain (nginx: `ssl_certificate …/fullchain.pem;`) and renew expired certificates",
                "Note that browsers usually report TLS failures as 1006, not 1015",
            ]),
    ]

    /// Codes outside 1000–1015 that are common enough to deserve their own words.
    private static let wellKnownPrivate: [CloseCodeInfo] = [
        CloseCodeInfo(
            code: 3000, name: "Unauthorized",
            meaning: "Registered with IANA for frameworks: the request was not authenticated (the WebSocket equivalent of HTTP 401).",
            sentBy: "server (framework or library)", onWire: true,
            causes: ["Missing, invalid or expired credentials on the connection"],
            fixes: ["Send valid credentials (cookie, token in the query string or first message) and reconnect with fresh ones"]),
        CloseCodeInfo(
            code: 3003, name: "Forbidden",
            meaning: "Registered with IANA for frameworks: the client is authenticated but not allowed to do this (the equivalent of HTTP 403).",
            sentBy: "server (framework or library)", onWire: true,
            causes: ["The user lacks permission for the channel or resource requested"],
            fixes: ["Check the user's permissions; do not retry automatically, the answer will not change"]),
        CloseCodeInfo(
            code: 3008, name: "Timeout",
            meaning: "Registered with IANA for frameworks: the connection was closed because something took too long (the equivalent of HTTP 408).",
            sentBy: "either endpoint (framework or library)", onWire: true,
            causes: ["No heartbeat or expected message within the framework's timeout", "A slow client or a blocked event loop"],
            fixes: ["Check heartbeat intervals on both sides match the framework's timeout", "Reconnect with backoff"]),
        CloseCodeInfo(
            code: 4400, name: "Malformed message",
            meaning: "Application-defined. wsdoctor's realtime server sends it when a client message cannot be parsed "
                + "(graphql-transport-ws uses it for bad requests too). Other applications may use 4400 differently.",
            sentBy: "server (application-defined)", onWire: true,
            causes: ["The client sent a message that is not valid JSON or not in the expected envelope"],
            fixes: ["Check the message format the server expects; log the outgoing message on the client"]),
        CloseCodeInfo(
            code: 4401, name: "Unauthorized",
            meaning: "Application-defined. wsdoctor's realtime server sends it when the connection's credentials are missing or invalid "
                + "(graphql-transport-ws uses it the same way). Other applications may use 4401 differently.",
            sentBy: "server (application-defined)", onWire: true,
            causes: ["No token or cookie, or an expired one"],
            fixes: ["Refresh the credentials before reconnecting; do not reconnect in a tight loop with the same token"]),
        CloseCodeInfo(
            code: 4408, name: "Pong overdue",
            meaning: "Application-defined. wsdoctor's realtime server sends it when the client did not answer its ping in time "
                + "(graphql-transport-ws uses 4408 for an initialisation timeout). Other applications may use 4408 differently.",
            sentBy: "server (application-defined)", onWire: true,
            causes: [
                "The client's event loop was blocked (a busy tab, a backgrounded mobile app)",
                "The network stalled long enough to delay the pong",
            ],
            fixes: [
                "Make sure the client answers pings promptly (browsers do it automatically unless the tab is frozen)",
                "Reconnect and resume from the last message received",
            ]),
        CloseCodeInfo(
            code: 4429, name: "Rate limited",
            meaning: "Application-defined. wsdoctor's realtime server sends it when a client sends or connects too often "
                + "(graphql-transport-ws uses 4429 for repeated initialisation). Other applications may use 4429 differently.",
            sentBy: "server (application-defined)", onWire: true,
            causes: ["Too many messages or reconnects in a short time, often a reconnect loop without backoff"],
            fixes: ["Reconnect with exponential backoff and jitter", "Batch or throttle outgoing messages"]),
    ]

    private static let ranges: [CloseCodeInfo] = [
        CloseCodeInfo(
            code: 0, range: 0...999, name: "Invalid close code",
            meaning: "Not a close code: RFC 6455 does not use codes below 1000, and no endpoint may send them.",
            sentBy: "never valid: a peer that sends it violates RFC 6455", onWire: false,
            causes: [
                "A confused number: HTTP statuses (100–599) are not close codes",
                "A buggy peer or a corrupted close frame",
            ],
            fixes: [
                "If the number came from an HTTP answer, run `wsdoctor explain STATUS` instead",
                "Receivers fail the connection with 1002 when a close frame carries such a code",
            ]),
        CloseCodeInfo(
            code: 1016, range: 1016...2999, name: "Reserved for the WebSocket protocol",
            meaning: "Reserved for future versions of the WebSocket protocol and its extensions, assigned through IANA. "
                + "None is in general use; receiving one usually means a non-standard or buggy peer.",
            sentBy: "should not be sent: reserved", onWire: false,
            causes: ["An application picked a custom code in the reserved range"],
            fixes: [
                "Use 4000–4999 for application-defined codes",
                "Strict receivers fail the connection with 1002 on these codes",
            ]),
        CloseCodeInfo(
            code: 3000, range: 3000...3999, name: "Registered for libraries and frameworks",
            meaning: "Registered with IANA for use by libraries, frameworks and applications. "
                + "Well-known ones: 3000 Unauthorized, 3003 Forbidden, 3008 Timeout; look up others in the IANA registry or your framework's documentation.",
            sentBy: "either endpoint (library- or framework-defined)", onWire: true,
            causes: ["Whatever the framework or library that sent it defines"],
            fixes: [
                "Read the close reason and the documentation of the framework in use",
                "Search the server's code for the number to find where it is sent",
            ]),
        CloseCodeInfo(
            code: 4000, range: 4000...4999, name: "Private use (application-defined)",
            meaning: "For private use by applications: there is no registry, the application defines the meaning. "
                + "wsdoctor's realtime server uses 4400 malformed, 4401 unauthorized, 4408 pong overdue, 4429 rate limited; "
                + "graphql-transport-ws uses 4400, 4401, 4403, 4406, 4408, 4409, 4429 and 4500.",
            sentBy: "either endpoint (application-defined)", onWire: true,
            causes: ["Whatever the application that sent it defines"],
            fixes: [
                "Search the server's code (and its libraries) for the number to find where and why it is sent",
                "Read the close reason, which applications usually fill in",
            ]),
        CloseCodeInfo(
            code: 5000, range: 5000...65535, name: "Invalid close code",
            meaning: "Outside the ranges RFC 6455 defines (valid codes end at 4999): no endpoint may send it.",
            sentBy: "never valid: a peer that sends it violates RFC 6455", onWire: false,
            causes: ["A buggy peer, a corrupted close frame, or a number that is not a close code at all"],
            fixes: [
                "Use 4000–4999 for application-defined codes",
                "Receivers fail the connection with 1002 when a close frame carries such a code",
            ]),
    ]
}
