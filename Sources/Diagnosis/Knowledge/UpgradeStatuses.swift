/// What an HTTP status means when it is the answer to a WebSocket upgrade request. Only
/// 101 is success; every other status means the request reached something that did not
/// (or could not) switch protocols, and the status says a lot about what that was.
public struct UpgradeStatusInfo: Sendable, Equatable {
    public var status: Int
    public var name: String
    /// What this status means as an answer to an upgrade request (not in general).
    public var meaning: String
    /// Who typically produces it: the WebSocket server, a proxy, the platform.
    public var sentBy: String
    public var causes: [String]
    public var fixes: [String]
    /// The cause `wsdoctor diagnose` names for this status when nothing else is known
    /// (rules may refine it, e.g. 403 → `origin-rejected` once confirmed). `nil` for 101.
    public var causeID: CauseID?

    public init(
        status: Int, name: String, meaning: String, sentBy: String, causes: [String], fixes: [String], causeID: CauseID?
    ) {
        self.status = status
        self.name = name
        self.meaning = meaning
        self.sentBy = sentBy
        self.causes = causes
        self.fixes = fixes
        self.causeID = causeID
    }
}

/// The statuses seen in answer to upgrade requests, with causes and fixes.
public enum UpgradeStatuses {
    /// The specific entry for `status`, or `nil` when it has none (use `describe`).
    public static func info(_ status: Int) -> UpgradeStatusInfo? {
        known.first { $0.status == status }
    }

    /// Every status with a specific entry, in numeric order.
    public static var all: [UpgradeStatusInfo] { known }

    /// Always an answer: the specific entry when there is one, otherwise a generic entry
    /// for the status's class (1xx–5xx), or an "invalid status" entry outside 100–599.
    public static func describe(_ status: Int) -> UpgradeStatusInfo {
        if let entry = info(status) { return entry }
        switch status {
        case 100...199:
            return UpgradeStatusInfo(
                status: status, name: "Informational",
                meaning: "An interim 1xx answer other than 101: the server did not switch protocols.",
                sentBy: "the server or a proxy",
                causes: ["A server or proxy that does not implement the WebSocket upgrade and answers with an interim status"],
                fixes: ["Check which component answered (Server/Via headers) and configure it to pass the upgrade on"],
                causeID: .handshakeRejected)
        case 200...299:
            return UpgradeStatusInfo(
                status: status, name: "Success (not an upgrade)",
                meaning: "A 2xx answer instead of 101: the request was handled as an ordinary HTTP request.",
                sentBy: "the server, a static file handler or a catch-all route",
                causes: ["An SPA catch-all route or static file server answered the path", "A proxy stripped the upgrade headers"],
                fixes: [
                    "Route the WebSocket path to the WebSocket handler before catch-all routes",
                    "Make the proxy pass `Upgrade` and `Connection` to the backend",
                ],
                causeID: .upgradeIgnored)
        case 300...399:
            return UpgradeStatusInfo(
                status: status, name: "Redirect",
                meaning: "A redirect: WebSocket clients do not follow redirects, so the connection fails.",
                sentBy: "the server or a proxy",
                causes: ["HTTP→HTTPS, canonical host or trailing-slash redirects applied to the WebSocket path"],
                fixes: ["Connect to the URL in `Location` directly", "Exempt the WebSocket path from redirects"],
                causeID: .redirect)
        case 400...499:
            return UpgradeStatusInfo(
                status: status, name: "Client error",
                meaning: "The server (or a proxy) considers the upgrade request invalid or not allowed.",
                sentBy: "the server or a proxy",
                causes: ["A missing or invalid header, parameter or credential the server requires"],
                fixes: ["Read the response body in the transcript and the server's log: they usually say what was rejected"],
                causeID: .handshakeRejected)
        case 500...599:
            return UpgradeStatusInfo(
                status: status, name: "Server error",
                meaning: "The server or a proxy failed while handling the upgrade request.",
                sentBy: "the server or a proxy in front of it",
                causes: ["An exception before or during the upgrade", "A proxy that could not reach or understand the backend"],
                fixes: ["Read the server's and the proxy's logs at the time of the request"],
                causeID: .serverError)
        default:
            return UpgradeStatusInfo(
                status: status, name: "Invalid HTTP status",
                meaning: "Not a valid HTTP status (they are 100–599): whatever answered does not speak HTTP correctly.",
                sentBy: "something that is not a conforming HTTP server",
                causes: ["A non-HTTP service on the port, or a broken proxy"],
                fixes: ["Check the port and what listens on it: `ss -ltnp | grep PORT`"],
                causeID: .notHTTP)
        }
    }

    private static let known: [UpgradeStatusInfo] = [
        UpgradeStatusInfo(
            status: 101, name: "Switching Protocols",
            meaning: "Success: the server accepted the upgrade and the connection now speaks WebSocket. "
                + "It must come with `Upgrade: websocket`, `Connection: Upgrade` and a correct `Sec-WebSocket-Accept`.",
            sentBy: "the WebSocket server (passed through by proxies)",
            causes: ["The upgrade worked; if the connection still fails, look at what happens after it (idle cuts, close codes)"],
            fixes: [
                "If the connection drops later, run `wsdoctor diagnose URL --idle 120s`",
                "If the client rejects the 101, check `Sec-WebSocket-Accept` and the subprotocol answered",
            ],
            causeID: nil),
        UpgradeStatusInfo(
            status: 200, name: "OK",
            meaning: "The request was served as an ordinary page instead of being upgraded: something other than the WebSocket handler answered.",
            sentBy: "the server's catch-all route, a static file server, or a proxy serving content itself",
            causes: [
                "An SPA catch-all route (`try_files $uri /index.html`, `app.get('*')`) matched the WebSocket path",
                "A middleware or framework answered before the WebSocket handler",
                "A proxy dropped the upgrade headers and the backend served the path as a plain GET",
            ],
            fixes: [
                "Register the WebSocket route before catch-all routes",
                "Give the path its own proxy location with the upgrade headers (nginx: `location /ws { proxy_pass …; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\"; }`)",
                "Dev servers: enable WebSocket proxying (Vite `ws: true`)",
            ],
            causeID: .upgradeIgnored),
        redirect(
            301, "Moved Permanently",
            "A permanent redirect. Browsers and WebSocket libraries do not follow it for WebSocket connections."),
        redirect(
            302, "Found",
            "A temporary redirect, often to a login page or from http to https. WebSocket clients do not follow it."),
        redirect(
            307, "Temporary Redirect",
            "A temporary redirect keeping the method. WebSocket clients do not follow it."),
        redirect(
            308, "Permanent Redirect",
            "A permanent redirect keeping the method, common for HTTP→HTTPS on ingress controllers. WebSocket clients do not follow it."),
        UpgradeStatusInfo(
            status: 400, name: "Bad Request",
            meaning: "The WebSocket server did not recognise a valid upgrade request: usually `Upgrade`/`Connection` did not reach it, "
                + "so it saw a plain GET on a WebSocket-only path.",
            sentBy: "the WebSocket server (its upgrade check), sometimes a proxy",
            causes: [
                "A reverse proxy not configured for WebSocket dropped `Upgrade` and `Connection` (nginx without `proxy_http_version 1.1` and the two headers)",
                "A missing or invalid `Sec-WebSocket-Key` or `Sec-WebSocket-Version`",
                "Go gorilla/websocket: \"the client is not using the websocket protocol\"",
            ],
            fixes: [
                "nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";`",
                "Test the backend directly, bypassing the proxy, to confirm the proxy is the culprit",
                "Read the response body: servers usually name the header they missed",
            ],
            causeID: .upgradeHeadersStripped),
        UpgradeStatusInfo(
            status: 401, name: "Unauthorized",
            meaning: "The server requires authentication for the WebSocket and got none (or an invalid one).",
            sentBy: "the server, its auth middleware, or an authenticating proxy",
            causes: [
                "No credentials: browsers cannot add an Authorization header to a WebSocket request",
                "An expired token or session cookie; a cookie not sent because of SameSite or domain rules",
            ],
            fixes: [
                "Send credentials the server accepts: a cookie, or a short-lived token in the query string or first message",
                "Test with `wsdoctor diagnose URL --header 'Authorization: Bearer …'`",
            ],
            causeID: .authRequired),
        UpgradeStatusInfo(
            status: 403, name: "Forbidden",
            meaning: "The server refuses the upgrade: most often because of the `Origin` header, otherwise missing permissions or a WAF rule.",
            sentBy: "the WebSocket server (origin check), its auth middleware, or a WAF/CDN",
            causes: [
                "The page's origin is not on the server's allowlist (gorilla's default `CheckOrigin`, Socket.IO `cors`, Spring `setAllowedOrigins`)",
                "The user is authenticated but not allowed",
                "A web application firewall or CDN security rule blocked the request",
            ],
            fixes: [
                "Add the exact page origin (scheme://host:port) to the server's allowed origins",
                "Compare `wsdoctor diagnose URL --origin https://your.app` with `--origin none` to see if Origin is the reason",
                "Check the WAF/CDN security events for the request",
            ],
            causeID: .authRequired),
        UpgradeStatusInfo(
            status: 404, name: "Not Found",
            meaning: "Nothing handles this path: the WebSocket route does not exist where the request arrived.",
            sentBy: "the server or a proxy in front of it",
            causes: [
                "A wrong path (`/ws` vs `/socket`), or a proxy that strips or adds a prefix",
                "A Socket.IO/SockJS server addressed with a plain WebSocket URL",
                "The route exists only in development (dev-server proxy)",
                "uvicorn without a WebSocket library installed treats the upgrade as plain HTTP",
            ],
            fixes: [
                "Check the path the backend receives against its routes",
                "Use the library's own client or endpoint for Socket.IO (`/socket.io/?EIO=4&transport=websocket`)",
                "uvicorn: `pip install 'uvicorn[standard]'`",
            ],
            causeID: .routeNotFound),
        UpgradeStatusInfo(
            status: 405, name: "Method Not Allowed",
            meaning: "The path exists but does not accept GET, the method of every WebSocket upgrade.",
            sentBy: "the server or an API gateway",
            causes: ["A REST route with the same path for other methods", "The WebSocket handler registered under another path"],
            fixes: ["Register the WebSocket handler for GET on this path", "Check route order so the WebSocket route matches first"],
            causeID: .methodNotAllowed),
        UpgradeStatusInfo(
            status: 407, name: "Proxy Authentication Required",
            meaning: "An HTTP proxy between you and the server wants credentials; the request never reached the server.",
            sentBy: "a forward (corporate) proxy",
            causes: ["A corporate proxy requiring authentication; browsers often do it silently, other clients do not"],
            fixes: [
                "Put credentials in the proxy URL: `HTTPS_PROXY=http://user:password@proxy:3128`",
                "Ask the network team to exempt the WebSocket host from proxy authentication",
            ],
            causeID: .proxyAuthRequired),
        UpgradeStatusInfo(
            status: 426, name: "Upgrade Required",
            meaning: "The server insists on an upgrade it did not get: a WebSocket-only endpoint received a request without a usable WebSocket upgrade, "
                + "or an unsupported `Sec-WebSocket-Version` (then it lists the versions it supports).",
            sentBy: "the WebSocket server (Node ws, many frameworks), or a gateway requiring HTTPS",
            causes: [
                "A proxy dropped `Upgrade`/`Connection`, so the server saw a plain GET",
                "A client sending a `Sec-WebSocket-Version` other than 13",
                "Kong: a route restricted to https answers 426 to plain http requests",
            ],
            fixes: [
                "nginx: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";`",
                "Check `Sec-WebSocket-Version` in the response for the versions the server accepts",
                "Use wss:// (https) if the gateway requires it",
            ],
            causeID: .upgradeHeadersStripped),
        UpgradeStatusInfo(
            status: 429, name: "Too Many Requests",
            meaning: "Rate limited: too many connection attempts from this client or address.",
            sentBy: "the server, an API gateway, or a CDN/WAF rate limit",
            causes: ["A reconnect loop without backoff", "Many clients behind one NAT address sharing a per-IP limit"],
            fixes: [
                "Reconnect with exponential backoff and jitter; honour `Retry-After`",
                "Raise or key the rate limit by user rather than by IP if many users share an address",
            ],
            causeID: .handshakeRejected),
        UpgradeStatusInfo(
            status: 500, name: "Internal Server Error",
            meaning: "The server failed while handling the upgrade request: an exception in the handler or in code that runs before it.",
            sentBy: "the WebSocket server",
            causes: [
                "An exception in the handler, or in auth/session code before the upgrade",
                "Go: a middleware's ResponseWriter does not implement `http.Hijacker` (\"response does not implement http.Hijacker\")",
            ],
            fixes: [
                "Read the server's log at the time of the request",
                "Go: register the WebSocket route outside wrapping middleware, or give the wrapper a delegating `Hijack()`",
            ],
            causeID: .serverError),
        UpgradeStatusInfo(
            status: 502, name: "Bad Gateway",
            meaning: "A proxy or load balancer could not get a valid answer from the backend behind it.",
            sentBy: "a proxy or load balancer (check the Server and Via headers)",
            causes: [
                "The backend is down or not listening where the proxy connects",
                "The backend closed the connection or answered with something that is not HTTP",
                "Wrong upstream protocol (http vs https) or port",
            ],
            fixes: [
                "Check the backend is running and healthy in the upstream/target group",
                "Read the proxy's error log (nginx: `connect() failed`, `upstream prematurely closed connection`)",
            ],
            causeID: .badGateway),
        UpgradeStatusInfo(
            status: 503, name: "Service Unavailable",
            meaning: "The service is overloaded, in maintenance, has no healthy backend, or the platform has WebSockets turned off.",
            sentBy: "the server, a load balancer with no healthy targets, or the platform",
            causes: [
                "No healthy backends behind the load balancer (failing health checks)",
                "WebSockets disabled on the platform (Azure App Service Web sockets setting off)",
                "Overload or maintenance mode",
            ],
            fixes: [
                "Check the backends' health checks and readiness probes",
                "Turn WebSockets on in the platform's settings",
                "Honour `Retry-After`; reconnect with backoff",
            ],
            causeID: .serviceUnavailable),
        UpgradeStatusInfo(
            status: 504, name: "Gateway Timeout",
            meaning: "A proxy or load balancer gave up waiting for the backend to answer the upgrade.",
            sentBy: "a proxy or load balancer",
            causes: [
                "The backend is too slow to accept (blocking work before the upgrade)",
                "The proxy cannot reach the backend (firewall, wrong address), so it waits until its timeout",
            ],
            fixes: [
                "Make the WebSocket accept fast; do slow work after the upgrade",
                "Check network reachability from the proxy to the backend",
            ],
            causeID: .badGateway),
    ]

    private static func redirect(_ status: Int, _ name: String, _ meaning: String) -> UpgradeStatusInfo {
        UpgradeStatusInfo(
            status: status, name: name, meaning: meaning,
            sentBy: "the server, a framework's redirect rule, or a proxy/ingress (HTTP→HTTPS)",
            causes: [
                "HTTP→HTTPS or bare-domain→www redirects applied to the WebSocket path",
                "A trailing-slash redirect (`/ws` → `/ws/`: Django APPEND_SLASH, Go ServeMux)",
                "A redirect to a login page because the request was not authenticated",
            ],
            fixes: [
                "Connect to the URL in the `Location` header directly",
                "Exempt the WebSocket path from redirects",
                "Send credentials if the redirect goes to a login page",
            ],
            causeID: .redirect)
    }
}
