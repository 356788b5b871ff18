import Foundation

/// What the server needs from the request target of a WebSocket upgrade: which
/// endpoint (the query never counts), the handshake-log nonce and a token.
public struct UpgradeTarget: Hashable, Sendable {
    public enum Endpoint: String, Hashable, Sendable, CaseIterable {
        /// `/ws`: the realtime protocol.
        case realtime = "/ws"
        /// `/echo`: plain echo, a target for `diagnose`.
        case echo = "/echo"
    }

    /// The path without its query.
    public let path: String
    public let endpoint: Endpoint?
    /// `probe=NONCE` when NONCE is a valid nonce (16 to 64 URL-safe characters).
    public let probe: String?
    /// The `token` query parameter (percent-decoded), if any.
    public let token: String?

    public init(requestTarget: String) {
        let parts = requestTarget.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let path = parts.first.map(String.init) ?? ""
        self.path = path.isEmpty ? "/" : path
        endpoint = Endpoint(rawValue: self.path)
        let query = parts.count == 2 ? Self.parameters(parts[1]) : []
        probe = query.first { $0.name == "probe" }.flatMap { ProbeNonce.isValid($0.value) ? $0.value : nil }
        token = query.first { $0.name == "token" }?.value
    }

    /// `a=1&b=2` as (name, value) pairs in order, percent-decoded (`+` is a space).
    public static func parameters(_ query: Substring) -> [(name: String, value: String)] {
        query.split(separator: "&").map { pair in
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ s: Substring) -> String {
                let spaced = s.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(kv[0]), kv.count == 2 ? decode(kv[1]) : "")
        }
    }
}

/// A complete HTTP/1.1 response as bytes on the wire, for answers written straight to
/// the socket (an upgrade refused before Hummingbird's router could answer). Always
/// `Connection: close` with a `Content-Length`, so a client knows where it ends.
public struct RawHTTPResponse: Hashable, Sendable {
    public var status: Int
    public var headers: [Header]
    public var body: String

    public struct Header: Hashable, Sendable {
        public var name: String
        public var value: String
        public init(_ name: String, _ value: String) {
            self.name = name
            self.value = value
        }
    }

    public init(status: Int, headers: [Header] = [], body: String = "") {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `{"error":…,"message":…}` as every refusal of the API.
    public static func jsonError(status: Int, error: String, message: String, headers: [Header] = []) -> RawHTTPResponse {
        RawHTTPResponse(
            status: status,
            headers: [Header("Content-Type", "application/json; charset=utf-8"), Header("Cache-Control", "no-store")] + headers,
            body: #"{"error":\#(JSONText.quote(error)),"message":\#(JSONText.quote(message))}"#)
    }

    public var text: String {
        var lines = ["HTTP/1.1 \(status) \(Self.reason(status))"]
        for h in headers where !Self.managed.contains(h.name.lowercased()) {
            // Header injection is impossible: CR and LF never leave here.
            var clean = String.UnicodeScalarView()
            clean.append(contentsOf: h.value.unicodeScalars.filter { $0 != "\r" && $0 != "\n" })
            lines.append("\(h.name): \(String(clean))")
        }
        lines.append("Content-Length: \(body.utf8.count)")
        lines.append("Connection: close")
        return lines.joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    private static let managed: Set<String> = ["content-length", "connection", "transfer-encoding"]

    public static func reason(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 426: "Upgrade Required"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 503: "Service Unavailable"
        default: "Status \(status)"
        }
    }
}

/// The answers of the `--simulate` upgrade faults, written as the software they imitate
/// writes them, so clients (and `diagnose`) see what they would see in the field.
public enum SimulatedUpgradeAnswer {
    /// `strip-upgrade`: a server that received the upgrade without `Upgrade` and
    /// `Connection` (a proxy dropped them) refuses it as gorilla/websocket does.
    public static func stripped(server: String) -> RawHTTPResponse {
        RawHTTPResponse(
            status: 400,
            headers: [.init("Content-Type", "text/plain; charset=utf-8"), .init("X-Content-Type-Options", "nosniff"),
                      .init("Sec-WebSocket-Version", "13"), .init("Server", server)],
            body: "Bad Request\nwebsocket: the client is not using the websocket protocol: 'upgrade' token not found in 'Connection' header\n")
    }

    /// `swallow-upgrade`: a catch-all route (a single-page app's index) answers the
    /// upgrade with an ordinary page.
    public static func swallowed(server: String) -> RawHTTPResponse {
        RawHTTPResponse(
            status: 200,
            headers: [.init("Content-Type", "text/html; charset=utf-8"), .init("Cache-Control", "no-cache"), .init("Server", server)],
            body: """
                <!doctype html>
                <html lang="en">
                <head><meta charset="utf-8"><title>App</title></head>
                <body><div id="root"></div><noscript>You need to enable JavaScript to run this app.</noscript>
                <script src="/static/js/main.js"></script></body>
                </html>

                """)
    }
}
