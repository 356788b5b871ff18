/// A component in the request path identified from response headers. Most WebSocket
/// failures are configuration of something between client and server; naming it (and the
/// exact setting it needs) turns "the upgrade fails" into a one-line fix.
public struct Intermediary: Sendable, Equatable {
    public enum Kind: String, Sendable, CaseIterable {
        case reverseProxy
        case cdn
        case loadBalancer
        case appServer
        case cache
        case forwardProxy
        /// A hop that announced itself in `Via` but is not one we recognise.
        case unidentified
    }

    /// A stable product name, e.g. "nginx", "Cloudflare", "AWS ALB/ELB".
    public var name: String
    public var kind: Kind
    /// The header lines that identified it, e.g. "Server: nginx/1.22.1; Via: 1.1 varnish".
    public var evidence: String
    /// The configuration that makes WebSockets pass through this component.
    public var websocketConfigHint: String

    public init(name: String, kind: Kind, evidence: String, websocketConfigHint: String) {
        self.name = name
        self.kind = kind
        self.evidence = evidence
        self.websocketConfigHint = websocketConfigHint
    }
}

/// Identifies proxies, CDNs, load balancers and app servers from the headers of a response.
public enum ServerFingerprints {
    /// The components the headers reveal, in the order their first evidence appears, one
    /// entry per product (evidence from several headers is joined with "; "). Header names
    /// are matched case-insensitively; values of any shape are accepted and quoted at most
    /// 120 characters long, with control characters removed.
    public static func identify(headers: [(String, String)]) -> [Intermediary] {
        var found: [Intermediary] = []
        func add(_ product: Product, _ evidence: String) {
            if let i = found.firstIndex(where: { $0.name == product.name }) {
                if !found[i].evidence.contains(evidence) { found[i].evidence += "; " + evidence }
            } else {
                found.append(
                    Intermediary(name: product.name, kind: product.kind, evidence: evidence, websocketConfigHint: product.hint))
            }
        }
        for (rawName, rawValue) in headers {
            let headerName = clean(rawName, limit: 60)
            let name = headerName.lowercased()
            let value = clean(rawValue, limit: 120)
            let evidence = "\(headerName): \(value)"
            for product in products(header: name, value: value.lowercased()) { add(product, evidence) }
        }
        // Fastly is built on Varnish and says `Via: 1.1 varnish`: name the CDN, not its engine.
        if found.contains(where: { $0.name == Product.fastly.name }) {
            found.removeAll { $0.name == Product.varnish.name }
        }
        return found
    }

    // MARK: - Matching

    private static func products(header: String, value: String) -> [Product] {
        switch header {
        case "server": return serverProducts(value)
        case "via":
            return value.split(separator: ",")
                .map { String($0).trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }
                .compactMap(viaProduct)
        case "x-powered-by": return poweredByProducts(value)
        case "cf-ray", "cf-cache-status": return [.cloudflare]
        case "x-amz-cf-id", "x-amz-cf-pop": return [.cloudFront]
        case "x-amz-apigw-id": return [.apiGateway]
        case "x-cache":
            if value.contains("cloudfront") { return [.cloudFront] }
            return []
        case "x-served-by":
            return value.hasPrefix("cache-") ? [.fastly] : []
        case "x-fastly-request-id", "fastly-debug-digest": return [.fastly]
        case "fly-request-id": return [.fly]
        case "x-vercel-id", "x-vercel-cache": return [.vercel]
        case "x-nf-request-id": return [.netlify]
        case "x-varnish": return [.varnish]
        case "x-squid-error", "x-cache-lookup": return [.squid]
        case "x-azure-ref": return [.azureFrontDoor]
        case "x-cloud-trace-context": return [.google]
        case "alt-svc":
            // Google's frontends advertise gQUIC versions (`quic=`, `h3-Q050`) besides h3.
            return value.contains("quic=") || value.contains("h3-q0") ? [.google] : []
        default:
            if header.hasPrefix("x-envoy-") { return [.envoy] }
            if header.hasPrefix("x-kong-") { return [.kong] }
            if header.hasPrefix("x-akamai-") || header == "akamai-grn" { return [.akamai] }
            return []
        }
    }

    private static func serverProducts(_ v: String) -> [Product] {
        var result: [Product] = []
        func has(_ s: String) -> Bool { v.contains(s) }
        if has("openresty") {
            result.append(.openResty)
        } else if has("nginx") {
            result.append(.nginx)
        }
        if has("cloudflare") { result.append(.cloudflare) }
        if v.hasPrefix("awselb") { result.append(.awsELB) }
        if has("cloudfront") { result.append(.cloudFront) }
        if v.hasPrefix("amazons3") { result.append(.s3) }
        if has("envoy") { result.append(.envoy) }
        if has("haproxy") { result.append(.haproxy) }
        if has("traefik") { result.append(.traefik) }
        if v.hasPrefix("caddy") { result.append(.caddy) }
        if has("coyote") || has("tomcat") {
            result.append(.tomcat)
        } else if v.hasPrefix("apache") {
            result.append(.apache)
        }
        if has("microsoft-iis") { result.append(.iis) }
        if has("microsoft-httpapi") { result.append(.httpSys) }
        if has("microsoft-azure-application-gateway") { result.append(.azureAppGateway) }
        if has("google frontend") || v == "gfe" || v.hasPrefix("gfe/") || v == "gws" || v == "esf" { result.append(.google) }
        if has("heroku") { result.append(.heroku) }
        if has("varnish") { result.append(.varnish) }
        if v.hasPrefix("squid") { result.append(.squid) }
        if has("akamai") { result.append(.akamai) }
        if has("vercel") { result.append(.vercel) }
        if has("netlify") { result.append(.netlify) }
        if v.hasPrefix("fly/") || v == "fly" { result.append(.fly) }
        if v.hasPrefix("kong") { result.append(.kong) }
        if has("gunicorn") || has("uvicorn") { result.append(.pythonASGI) }
        if has("werkzeug") { result.append(.werkzeug) }
        if has("kestrel") { result.append(.kestrel) }
        if has("jetty") { result.append(.jetty) }
        if has("litespeed") { result.append(.liteSpeed) }
        return result
    }

    private static func poweredByProducts(_ v: String) -> [Product] {
        if v.contains("next.js") { return [.nextJS] }
        if v.contains("express") { return [.express] }
        if v.hasPrefix("php") { return [.php] }
        if v.contains("asp.net") { return [.aspNet] }
        return []
    }

    /// One `Via` element: `1.1 varnish`, `1.1 abc.cloudfront.net (CloudFront)`, `kong/3.4.0`.
    /// `nil` for an element that names no hop (a bare protocol version).
    private static func viaProduct(_ element: String) -> Product? {
        let e = element.lowercased()
        let tokens = e.split(separator: " ").map(String.init)
        guard let first = tokens.first else { return nil }
        // The received-by pseudonym follows the protocol version when there is one.
        let isVersion = first.first?.isNumber == true || first.hasPrefix("http/")
        if isVersion, tokens.count < 2 { return nil }
        let pseudonym = isVersion ? tokens[1] : first
        if e.contains("cloudfront") { return .cloudFront }
        if e.contains("varnish") { return .varnish }
        if pseudonym == "google" { return .google }
        if e.contains("vegur") || e.contains("heroku") { return .heroku }
        if e.contains("squid") { return .squid }
        if e.contains("kong") { return .kong }
        if e.contains("akamai") { return .akamai }
        if e.contains("envoy") { return .envoy }
        if e.contains("haproxy") { return .haproxy }
        if e.contains("nginx") { return .nginx }
        if e.contains("caddy") { return .caddy }
        if e.contains("traefik") { return .traefik }
        if e.contains("apache") { return .apache }
        if e.contains("fly.io") { return .fly }
        if e.contains("vercel") { return .vercel }
        let label = String(pseudonym.prefix(40))
        return Product(
            name: label.isEmpty ? "Unidentified proxy" : "Unidentified proxy (\(label))", kind: .unidentified,
            hint: "This hop must forward `Upgrade` and `Connection` to the next one (over HTTP/1.1), "
                + "and keep upgraded connections open while idle: check its WebSocket and timeout settings, and send pings.")
    }

    /// Printable, trimmed and bounded: header values may hold anything.
    private static func clean(_ s: String, limit: Int) -> String {
        let printable = String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        let trimmed = printable.trimmingCharacters(in: .whitespaces)
        return trimmed.count > limit ? String(trimmed.prefix(limit)) + "…" : trimmed
    }
}

/// A known product: its name, kind and the configuration WebSockets need through it.
private struct Product: Sendable {
    var name: String
    var kind: Intermediary.Kind
    var hint: String

    static let nginxHint =
        "In the WebSocket location: `proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; "
        + "proxy_set_header Connection \"upgrade\"; proxy_set_header Host $host; proxy_read_timeout 3600s;`. Without the upgrade lines nginx "
        + "sends a plain HTTP/1.0 GET upstream; proxy_read_timeout (60 s by default) cuts idle WebSockets."

    static let nginx = Product(name: "nginx", kind: .reverseProxy, hint: nginxHint)
    static let openResty = Product(name: "OpenResty", kind: .reverseProxy, hint: nginxHint)
    static let cloudflare = Product(
        name: "Cloudflare", kind: .cdn,
        hint: "WebSockets pass through proxied (orange-cloud) hosts while Network → WebSockets is on (the default). "
            + "Cloudflare closes connections idle for 100 s: send a ping at least every 60 s, and reconnect automatically, "
            + "since edge restarts also end long-lived connections.")
    static let awsELB = Product(
        name: "AWS ALB/ELB", kind: .loadBalancer,
        hint: "An Application Load Balancer passes WebSockets on HTTP/HTTPS listeners (target group protocol version HTTP1). "
            + "It closes connections idle longer than the `idle_timeout.timeout_seconds` attribute (default 60 s, up to 4000): "
            + "`aws elbv2 modify-load-balancer-attributes --load-balancer-arn ARN --attributes Key=idle_timeout.timeout_seconds,Value=3600`, "
            + "and ping below it. A Classic ELB needs TCP/SSL listeners for WebSockets.")
    static let cloudFront = Product(
        name: "Amazon CloudFront", kind: .cdn,
        hint: "Give the WebSocket path a cache behavior that does not cache and forwards the `Sec-WebSocket-Key`, `Sec-WebSocket-Version`, "
            + "`Sec-WebSocket-Protocol` and `Sec-WebSocket-Extensions` headers (an origin request policy such as AllViewer), "
            + "to an origin that supports WebSockets.")
    static let apiGateway = Product(
        name: "AWS API Gateway", kind: .reverseProxy,
        hint: "REST and HTTP APIs cannot proxy WebSocket connections: use an API Gateway WebSocket API "
            + "(`$connect`/`$disconnect`/`$default` routes; 10-minute idle timeout, 2-hour maximum), or route the WebSocket path to an ALB instead.")
    static let s3 = Product(
        name: "Amazon S3", kind: .appServer,
        hint: "S3 serves static files and cannot accept WebSockets: route the WebSocket path (CloudFront behavior, DNS name) to the WebSocket server.")
    static let envoy = Product(
        name: "Envoy", kind: .reverseProxy,
        hint: "Enable upgrades on the HTTP connection manager (`upgrade_configs: [{upgrade_type: websocket}]`) or on the route, "
            + "and give the WebSocket route `timeout: 0s` and an `idle_timeout` suited to long-lived streams "
            + "(`stream_idle_timeout` defaults to 5 min). Istio sidecars pass WebSockets without extra configuration.")
    static let haproxy = Product(
        name: "HAProxy", kind: .loadBalancer,
        hint: "In `mode http` HAProxy passes WebSocket upgrades automatically. Upgraded connections are governed by `timeout tunnel` "
            + "(otherwise `timeout client`/`timeout server`, 50 s in stock configs): add `timeout tunnel 1h` to the backend.")
    static let traefik = Product(
        name: "Traefik", kind: .reverseProxy,
        hint: "Traefik proxies WebSockets without configuration: check no middleware on the WebSocket router buffers or rewrites it "
            + "(`buffering`, header rewrites), and that the entry point's `respondingTimeouts` allow long idle connections.")
    static let caddy = Product(
        name: "Caddy", kind: .reverseProxy,
        hint: "Caddy 2's `reverse_proxy` passes WebSockets with no extra configuration (`reverse_proxy /ws backend:8080`). "
            + "Config reloads close upgraded connections unless `stream_close_delay` is set; clients must reconnect.")
    static let apache = Product(
        name: "Apache httpd", kind: .reverseProxy,
        hint: "Enable mod_proxy_wstunnel (`a2enmod proxy proxy_http proxy_wstunnel`) and add `ProxyPass /ws ws://backend:8080/ws` before the general ProxyPass, "
            + "or on httpd 2.4.47+ `ProxyPass / http://backend:8080/ upgrade=websocket`. Raise `ProxyTimeout` (defaults to `Timeout`, 60 s) for idle connections.")
    static let tomcat = Product(
        name: "Apache Tomcat", kind: .appServer,
        hint: "Expose the endpoint with the Jakarta WebSocket API (`@ServerEndpoint`) or Spring's WebSocket support; "
            + "behind httpd or nginx, pass the upgrade headers.")
    static let iis = Product(
        name: "Microsoft IIS", kind: .appServer,
        hint: "Install the WebSocket Protocol feature (Server Manager → Web Server → Application Development → WebSocket Protocol), "
            + "keep `<webSocket enabled=\"true\" />` in web.config, and in ASP.NET Core call `app.UseWebSockets()`.")
    static let httpSys = Product(
        name: "Windows HTTP.sys", kind: .appServer,
        hint: "The answer came from the Windows HTTP.sys driver, not from your site: check the site's host name/port binding "
            + "and that its application pool is running.")
    static let azureAppGateway = Product(
        name: "Azure Application Gateway", kind: .loadBalancer,
        hint: "Application Gateway passes WebSockets on HTTP/HTTPS listeners without configuration; 502s usually mean "
            + "the backend health probe fails: make the probe's path answer 200.")
    static let azureFrontDoor = Product(
        name: "Azure Front Door", kind: .cdn,
        hint: "Check that your Front Door tier and route support WebSocket; otherwise give WebSockets their own host name "
            + "that points at the origin or an Application Gateway.")
    static let google = Product(
        name: "Google Frontend", kind: .loadBalancer,
        hint: "Google's load balancers pass WebSockets, but the backend service timeout caps a WebSocket's whole lifetime (default 30 s): "
            + "`gcloud compute backend-services update BACKEND --global --timeout=3600` (GKE: `timeoutSec` in a BackendConfig; "
            + "Cloud Run: `gcloud run services update SERVICE --timeout=3600`). Clients must reconnect when it is reached.")
    static let heroku = Product(
        name: "Heroku router", kind: .loadBalancer,
        hint: "WebSockets work on Heroku without configuration, but the router closes a connection when no data passes for 55 s (H15): "
            + "send a ping or heartbeat every 30 s or so.")
    static let varnish = Product(
        name: "Varnish", kind: .cache,
        hint: "Pipe WebSocket requests: in `vcl_recv`, `if (req.http.upgrade ~ \"(?i)websocket\") { return (pipe); }`; in `vcl_pipe`, "
            + "`if (req.http.upgrade) { set bereq.http.upgrade = req.http.upgrade; set bereq.http.connection = req.http.connection; }`. "
            + "Raise `pipe_timeout` for long idle periods.")
    static let squid = Product(
        name: "Squid", kind: .forwardProxy,
        hint: "wss:// goes through Squid as a CONNECT tunnel: the port must be allowed (`http_access allow CONNECT SSL_ports`, port in `SSL_ports`). "
            + "Plain ws:// needs Squid 5+ with `http_upgrade_request_protocols WebSocket allow all`.")
    static let akamai = Product(
        name: "Akamai", kind: .cdn,
        hint: "Enable the WebSockets behavior on the property for the WebSocket path (Property Manager), do not cache it, "
            + "and keep connections busy with pings.")
    static let fastly = Product(
        name: "Fastly", kind: .cdn,
        hint: "Enable WebSockets on the service, then in VCL `vcl_recv`: `if (req.http.Upgrade) { return (upgrade); }` "
            + "(Compute: hand the request off with `handoff_websocket`).")
    static let vercel = Product(
        name: "Vercel", kind: .cdn,
        hint: "Vercel Functions cannot hold WebSocket connections: run the WebSocket server elsewhere (or use a hosted realtime service) "
            + "and connect to it directly; keep SSE or polling as a fallback.")
    static let netlify = Product(
        name: "Netlify", kind: .cdn,
        hint: "Netlify Functions cannot hold WebSocket connections: run the WebSocket server elsewhere and connect to it directly; "
            + "keep SSE or polling as a fallback.")
    static let fly = Product(
        name: "Fly.io", kind: .loadBalancer,
        hint: "fly-proxy passes WebSockets through an `[http_service]` (or `handlers = [\"tls\", \"http\"]`) to `internal_port`; "
            + "the app must listen on 0.0.0.0 there. Machines stopped by `auto_stop_machines` drop their connections: clients must reconnect.")
    static let kong = Product(
        name: "Kong", kind: .reverseProxy,
        hint: "Kong proxies WebSocket upgrades on http/https routes. Raise the Service's `read_timeout`/`write_timeout` "
            + "(default 60000 ms) for idle connections, and make the route's `protocols` include the scheme used (an https-only route answers 426).")
    static let pythonASGI = Product(
        name: "gunicorn/uvicorn", kind: .appServer,
        hint: "Gunicorn's sync workers cannot hold WebSockets: run ASGI apps with `-k uvicorn.workers.UvicornWorker` "
            + "(Flask-SocketIO: a gevent or eventlet worker). Uvicorn needs a WebSocket library: `pip install 'uvicorn[standard]'` "
            + "(without one it logs \"Unsupported upgrade request\").")
    static let werkzeug = Product(
        name: "Werkzeug", kind: .appServer,
        hint: "Werkzeug is Flask's development server: in production run behind gunicorn with a WebSocket-capable worker, or an ASGI server.")
    static let kestrel = Product(
        name: "Kestrel", kind: .appServer,
        hint: "Call `app.UseWebSockets()` before mapping the WebSocket endpoint; behind IIS install the WebSocket Protocol feature, "
            + "behind nginx pass the upgrade headers.")
    static let jetty = Product(
        name: "Jetty", kind: .appServer,
        hint: "Register the endpoint with Jetty's WebSocket support (Jakarta `@ServerEndpoint` or Jetty's WebSocket servlet); "
            + "behind a proxy pass the upgrade headers.")
    static let liteSpeed = Product(
        name: "LiteSpeed", kind: .reverseProxy,
        hint: "Add a Web Socket Proxy for the path in the virtual host (URI `/ws`, address `backend:port`).")
    static let express = Product(
        name: "Express", kind: .appServer,
        hint: "Express routes never see upgrades: attach the WebSocket server to the http.Server "
            + "(`new WebSocketServer({ server })` or `server.on('upgrade', …)`, where `server = app.listen(…)`), not to `app`.")
    static let nextJS = Product(
        name: "Next.js", kind: .appServer,
        hint: "Next.js route handlers cannot accept WebSocket upgrades: run a custom server or a separate WebSocket service, "
            + "and proxy the WebSocket path to it.")
    static let php = Product(
        name: "PHP", kind: .appServer,
        hint: "PHP-FPM request handlers cannot hold WebSocket connections: run a separate WebSocket server "
            + "(Ratchet, Swoole, Laravel Reverb) and proxy the WebSocket path to it.")
    static let aspNet = Product(
        name: "ASP.NET", kind: .appServer,
        hint: "Turn WebSockets on where it runs (IIS: WebSocket Protocol feature; Azure App Service: Configuration → Web sockets On) "
            + "and call `app.UseWebSockets()` in ASP.NET Core.")
}
