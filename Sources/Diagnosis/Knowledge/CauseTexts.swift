/// The default words for every cause id: a title, a summary a developer can act on, and
/// fixes written for real deployments. Rules replace title and summary with what they
/// measured (the exact timeout, the status, the missing header); `wsdoctor explain` prints
/// these as they are. The `switch` is exhaustive so a new `CauseID` cannot ship without text.
enum CauseTexts {
    static func entry(for id: CauseID) -> CauseCatalogue.Entry {
        switch id {
        case .healthy:
            CauseCatalogue.Entry(
                title: "The WebSocket connection works end to end",
                summary: "Name resolution, TCP, TLS, the upgrade handshake and a message round trip all succeeded from here. "
                    + "If users still fail, the difference is on their path (a corporate proxy, a mobile network) or appears only after the connection has been idle.",
                fixes: [
                    "Run `wsdoctor diagnose URL --idle 120s` to check that idle connections survive proxies and load balancers",
                    "Run wsdoctor from the failing user's network: corporate proxies and firewalls differ from yours",
                    "Keep an SSE or long-polling fallback for clients whose network blocks WebSockets",
                ])
        case .invalidTarget:
            CauseCatalogue.Entry(
                title: "The URL cannot be used as given",
                summary: "wsdoctor could not read a scheme, host and port from the URL, so nothing was tried. "
                    + "Accepted schemes are ws://, wss://, http:// and https://.",
                fixes: [
                    "Give a full URL with a scheme: `wss://example.com/ws`",
                    "Quote the URL in the shell so `?`, `&` and `#` reach wsdoctor intact: `wsdoctor diagnose 'wss://host/ws?token=…'`",
                    "Put IPv6 literals in brackets: `ws://[::1]:8080/ws`",
                    "Use a port between 1 and 65535",
                ])
        case .dnsNoSuchHost:
            CauseCatalogue.Entry(
                title: "The host name does not exist in DNS",
                summary: "The resolver answered that the name has no address (NXDOMAIN, or no A/AAAA records), so no connection is possible. "
                    + "Usually a typo, a record that was never created, or an internal name looked up from outside.",
                fixes: [
                    "Check the spelling of the host in the URL and in the client's configuration (environment-specific URLs are a common culprit)",
                    "Create the record (A/AAAA, or a CNAME to your load balancer or CDN) and wait for negative caching (the SOA minimum TTL) to expire",
                    "For internal names, run from inside the network or VPN whose DNS knows them; check /etc/hosts and split-horizon DNS",
                    "Compare with `dig +short HOST A` and `dig +short HOST AAAA`",
                ])
        case .dnsFailure:
            CauseCatalogue.Entry(
                title: "The DNS lookup failed or timed out",
                summary: "The resolver gave no usable answer (timeout or SERVFAIL), so it is unknown whether the name exists. "
                    + "The problem is the resolver or the zone's name servers, not the WebSocket server.",
                fixes: [
                    "Compare your resolver with a public one: `dig HOST` vs `dig HOST @1.1.1.1`",
                    "Check /etc/resolv.conf (or the container's DNS settings) points to a reachable resolver",
                    "SERVFAIL only on validating resolvers means broken DNSSEC signatures on the zone: fix the DS/DNSKEY records",
                    "In Docker or Kubernetes, check the cluster DNS (e.g. CoreDNS pods) is running and reachable",
                ])
        case .connectionRefused:
            CauseCatalogue.Entry(
                title: "Nothing accepts connections on that port",
                summary: "The host answered the TCP connection attempt with a reset: no process listens on that port, "
                    + "it listens only on localhost, or a firewall actively rejects the connection.",
                fixes: [
                    "Check the server is running and listening on the port: `ss -ltnp | grep PORT`",
                    "Inside a container or VM, listen on 0.0.0.0 (or ::), not 127.0.0.1",
                    "Check the port mapping: `docker run -p 8080:8080`, a Kubernetes Service's `targetPort`, the platform's `PORT` variable",
                    "Check host firewall rules (ufw, iptables, nftables) that reject the port",
                ])
        case .connectTimeout:
            CauseCatalogue.Entry(
                title: "The connection attempt got no answer",
                summary: "TCP connection attempts went unanswered until the timeout: a firewall or security group drops the packets, "
                    + "the DNS record points to an old or wrong address, or the host is down.",
                fixes: [
                    "Allow inbound traffic to the port in the cloud security group, network ACL or firewall",
                    "Check the DNS record points at the current address of the server or load balancer",
                    "Test reachability from the same network: `nc -vz HOST PORT`",
                    "On corporate networks direct outbound connections are often blocked: go through the proxy (`--proxy URL` or HTTPS_PROXY)",
                ])
        case .networkUnreachable:
            CauseCatalogue.Entry(
                title: "There is no route to the server's address",
                summary: "The operating system has no route to the address: typically an IPv6 address on a network without IPv6, "
                    + "or a private address range that is only reachable over a VPN.",
                fixes: [
                    "If only IPv6 addresses fail, fix the AAAA record or the network's IPv6 (clients fall back to IPv4, but slowly)",
                    "Connect the VPN or network that routes to the private address range",
                    "Check the machine's default route: `ip route` / `ip -6 route`",
                ])
        case .proxyUnreachable:
            CauseCatalogue.Entry(
                title: "The configured HTTP proxy cannot be reached",
                summary: "A proxy was configured (`--proxy`, or HTTPS_PROXY/HTTP_PROXY/ALL_PROXY in the environment) but wsdoctor could not connect to it, "
                    + "so the WebSocket server was never tried.",
                fixes: [
                    "Check the proxy host and port in HTTPS_PROXY/HTTP_PROXY/ALL_PROXY (upper or lower case)",
                    "If this host needs no proxy, add it to NO_PROXY or run with `--no-proxy`",
                    "Check the proxy service is running and reachable from this machine",
                ])
        case .proxyAuthRequired:
            CauseCatalogue.Entry(
                title: "The proxy requires authentication (407)",
                summary: "The HTTP proxy answered with 407 Proxy Authentication Required, so the request never reached the WebSocket server. "
                    + "Browsers often authenticate to corporate proxies silently; other clients need explicit credentials.",
                fixes: [
                    "Put credentials in the proxy URL: `HTTPS_PROXY=http://user:password@proxy.example.com:3128`",
                    "Server-side and mobile clients need the proxy credentials configured explicitly (NTLM/Kerberos proxies may need a local helper such as cntlm)",
                    "Ask the network team to exempt the WebSocket host from proxy authentication",
                ])
        case .proxyConnectDenied:
            CauseCatalogue.Entry(
                title: "The proxy refused to tunnel to this host or port",
                summary: "The proxy answered the CONNECT request with an error (often 403): its policy forbids tunnels to this destination. "
                    + "Corporate proxies commonly allow CONNECT only to port 443.",
                fixes: [
                    "Serve the WebSocket as wss:// on port 443: many proxies only allow CONNECT to 443",
                    "Ask the proxy admins to allow CONNECT to this host and port (Squid: the port in `SSL_ports` and `http_access allow CONNECT SSL_ports`)",
                    "If the proxy filters by category, get the domain allowlisted",
                    "Offer an SSE or long-polling fallback for clients behind such proxies",
                ])
        case .tlsExpiredCertificate:
            CauseCatalogue.Entry(
                title: "The server's certificate has expired",
                summary: "A certificate in the chain the server sends is past its notAfter date, so every client refuses the TLS connection "
                    + "(browsers report the WebSocket as closed with 1006).",
                fixes: [
                    "Renew the certificate (`certbot renew`) and reload the server that serves it (`nginx -s reload`)",
                    "Check the renewal timer or cron job really runs, and that it has a deploy hook reloading the server",
                    "If the leaf is fresh but an intermediate has expired, serve the CA's current chain (`fullchain.pem`)",
                    "On a load balancer or CDN (AWS ALB, CloudFront, Cloudflare), replace the certificate there, not only on the backend",
                ])
        case .tlsNotYetValidCertificate:
            CauseCatalogue.Entry(
                title: "The certificate is not valid yet",
                summary: "A certificate's notBefore date lies in the future as seen by this machine: usually this machine's clock is wrong, "
                    + "or a certificate was installed before its start time.",
                fixes: [
                    "Check this machine's clock (`date -u`) and enable time sync (`timedatectl set-ntp true`)",
                    "Devices with dead clock batteries and VMs restored from snapshots often have the wrong time",
                    "If the certificate really starts later, keep serving the previous one until then",
                ])
        case .tlsUntrustedCertificate:
            CauseCatalogue.Entry(
                title: "The certificate is not trusted (self-signed or unknown CA)",
                summary: "The server presents a self-signed certificate or one issued by a CA this client does not trust. "
                    + "Browsers give no prompt for wss:// certificate errors: the WebSocket just fails.",
                fixes: [
                    "Use a certificate from a public CA (e.g. Let's Encrypt) for public endpoints",
                    "For a private CA, install its root on the clients, or pass it to wsdoctor with `--ca-file ca.pem`",
                    "TLS-inspecting corporate proxies re-sign traffic with their own root: install that root, or have the host exempted",
                    "In development, open the https:// URL once in the browser and accept the certificate; wss:// to the same host then works",
                ])
        case .tlsIncompleteChain:
            CauseCatalogue.Entry(
                title: "The server does not send its intermediate certificate(s)",
                summary: "The server sends only its leaf certificate. Desktop browsers may still connect (they fetch or cache intermediates), "
                    + "but most other clients (Android, Node, Java, Go, Python, curl) fail to verify.",
                fixes: [
                    "nginx: `ssl_certificate /etc/letsencrypt/live/DOMAIN/fullchain.pem;` (fullchain.pem, not cert.pem)",
                    "Apache httpd 2.4.8+: point `SSLCertificateFile` at the full chain (leaf first, then intermediates)",
                    "Build the file yourself if needed: `cat cert.pem intermediate.pem > fullchain.pem`",
                    "Check more than one certificate is served: `openssl s_client -connect HOST:443 -servername HOST -showcerts`",
                ])
        case .tlsHostnameMismatch:
            CauseCatalogue.Entry(
                title: "The certificate does not cover this host name",
                summary: "None of the names in the certificate (its Subject Alternative Names) matches the host in the URL, so clients reject it. "
                    + "Often the wrong virtual host's certificate is served, or the client uses an alias.",
                fixes: [
                    "Issue a certificate that includes this name (a wildcard `*.example.com` covers one level only, not `example.com` or `a.b.example.com`)",
                    "Connect with the name the certificate is for, not an IP address or an internal alias",
                    "With several sites on one server, check SNI selects the right one (nginx `server_name`; the `default_server` certificate is served otherwise)",
                    "Behind a CDN, check the CDN's edge certificate includes the host",
                ])
        case .tlsHandshakeFailure:
            CauseCatalogue.Entry(
                title: "The TLS handshake failed",
                summary: "TLS could not be negotiated for a reason other than the certificate: no common protocol version or cipher, "
                    + "a handshake alert from the server, or the connection closed mid-handshake.",
                fixes: [
                    "Enable TLS 1.2 and 1.3 on the server (nginx: `ssl_protocols TLSv1.2 TLSv1.3;`)",
                    "Read the alert in the evidence: `handshake_failure` usually means no shared cipher or version, `unrecognized_name` an SNI problem",
                    "Check the server has a certificate for this SNI name (some close the connection when no virtual host matches)",
                    "Compare with `openssl s_client -connect HOST:PORT -servername HOST`",
                ])
        case .tlsToPlaintextServer:
            CauseCatalogue.Entry(
                title: "wss:// was used, but the port speaks plain HTTP",
                summary: "The server answered the TLS greeting with plain text (usually an HTTP 400), so TLS is not set up on this port.",
                fixes: [
                    "Use ws:// for this port, or connect to the TLS port (usually 443)",
                    "Enable TLS on the listener (nginx: `listen 443 ssl;` with `ssl_certificate` and `ssl_certificate_key`)",
                    "If TLS ends at a load balancer, point clients at the load balancer, not at the backend's port",
                ])
        case .plaintextToTLSServer:
            CauseCatalogue.Entry(
                title: "ws:// was used, but the port speaks TLS",
                summary: "The server answered the plain HTTP upgrade request with TLS bytes: this port expects encrypted connections.",
                fixes: [
                    "Use wss:// for this port",
                    "Pages served over https:// must use wss:// anyway: browsers block ws:// from them as mixed content",
                    "Build the URL from the page: `(location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws'`",
                ])
        case .handshakeTimeout:
            CauseCatalogue.Entry(
                title: "The server did not answer the upgrade request",
                summary: "The connection (and TLS) succeeded, but no HTTP response to the upgrade request arrived in time. "
                    + "The handler is stuck before accepting, or a proxy waits on a backend that does not answer.",
                fixes: [
                    "Check the WebSocket handler accepts promptly: no slow database or auth calls before the upgrade",
                    "Check the proxy reaches its backend; a hanging upstream connect looks like silence (nginx `proxy_connect_timeout`)",
                    "nginx: the WebSocket location needs `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";`",
                    "Check the port is the HTTP port of the service, not a TCP-only service that waits for the client to speak its own protocol",
                ])
        case .notHTTP:
            CauseCatalogue.Entry(
                title: "The port does not speak HTTP",
                summary: "The first bytes from the server are not an HTTP response: another kind of service (SSH, SMTP, a database, a raw TCP server) listens on this port.",
                fixes: [
                    "Check the port number in the URL",
                    "Find out what listens there: `ss -ltnp | grep PORT`",
                    "A raw TCP service is not a WebSocket server: put a WebSocket server (or websockify) in front of it",
                ])
        case .redirect:
            CauseCatalogue.Entry(
                title: "The server redirects the WebSocket request",
                summary: "The upgrade request was answered with a 3xx redirect. WebSocket clients, browsers included, do not follow redirects, "
                    + "so the connection fails; the `Location` header shows where the server wants you to go.",
                fixes: [
                    "Connect to the URL in `Location` directly (typically http→https, bare domain→www, or an added trailing slash)",
                    "Exempt the WebSocket path from HTTP→HTTPS and canonical-host redirects",
                    "Use the exact path the framework expects: Django's APPEND_SLASH and Go's ServeMux redirect `/ws` to `/ws/`",
                    "A redirect to a login page means the request was not authenticated: send the session cookie or token",
                ])
        case .routeNotFound:
            CauseCatalogue.Entry(
                title: "There is no WebSocket route at this path (404)",
                summary: "The server, or a proxy in front of it, has no handler for this path and answered 404 to the upgrade request.",
                fixes: [
                    "Check the path in the URL against the server's route (`/ws` vs `/socket` vs `/api/ws`)",
                    "If a reverse proxy strips or adds a prefix, match what the backend receives (nginx: `proxy_pass http://backend/;` with a trailing slash strips the location prefix)",
                    "Socket.IO and SockJS are not plain WebSocket: use their client, or their endpoint (`/socket.io/?EIO=4&transport=websocket`)",
                    "Check the WebSocket route is registered in the deployed build, not only in development (dev-server proxies hide this)",
                ])
        case .methodNotAllowed:
            CauseCatalogue.Entry(
                title: "The path does not accept GET (405)",
                summary: "A WebSocket upgrade is a GET request, and the server answered 405 Method Not Allowed: the route exists for other methods only, "
                    + "or another route with the same path shadows the WebSocket handler.",
                fixes: [
                    "Register the WebSocket handler for GET on this path",
                    "Check a REST route with the same path (e.g. `POST /ws`) is not matched first",
                    "Check nothing in front (API gateway, WAF rule) restricts the methods allowed on this path",
                ])
        case .authRequired:
            CauseCatalogue.Entry(
                title: "The server requires authentication (401/403)",
                summary: "The server rejected the upgrade because credentials were missing or invalid. "
                    + "Browsers cannot set an Authorization header on a WebSocket request; they only send cookies.",
                fixes: [
                    "Send the credentials the server expects: `--header 'Authorization: Bearer …'` or `--header 'Cookie: session=…'`",
                    "For browsers, authenticate with a same-site cookie, or a short-lived token in the query string or the first message",
                    "Check the auth middleware does not require a header a browser cannot send on the upgrade request",
                    "If tokens expire, refresh them before reconnecting",
                ])
        case .originRejected:
            CauseCatalogue.Entry(
                title: "The server rejects the request's Origin (403)",
                summary: "The server refused the upgrade because of the `Origin` header (protection against cross-site WebSocket hijacking): "
                    + "the page's origin is not on its allowlist.",
                fixes: [
                    "Add the page's exact origin (scheme://host:port) to the server's allowed origins",
                    "Go gorilla/websocket: set `Upgrader.CheckOrigin` to check your allowlist (the default rejects cross-origin requests)",
                    "Socket.IO: `cors: { origin: ['https://app.example.com'] }`; Spring: `setAllowedOrigins(…)`; ASP.NET Core: `WebSocketOptions.AllowedOrigins`",
                    "Do not allow every origin when the socket is authenticated by cookies",
                ])
        case .upgradeHeadersStripped:
            CauseCatalogue.Entry(
                title: "A proxy does not pass the WebSocket upgrade on",
                summary: "The `Upgrade` and `Connection` headers did not reach the WebSocket server, so it answered as to a plain GET (400 or 426). "
                    + "These are hop-by-hop headers: a reverse proxy drops them unless configured for WebSocket.",
                fixes: [
                    "nginx, in the WebSocket location: `proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection \"upgrade\";`",
                    "Apache httpd: `ProxyPass /ws ws://backend:8080/ws` with mod_proxy_wstunnel, or on 2.4.47+ `ProxyPass / http://backend:8080/ upgrade=websocket`",
                    "Envoy: `upgrade_configs: [{upgrade_type: websocket}]` on the HTTP connection manager; HAProxy, Traefik and Caddy pass upgrades by default",
                    "Check every hop (CDN, load balancer, ingress, the app server's own proxy) and test the backend directly to find the one that drops them",
                ])
        case .upgradeIgnored:
            CauseCatalogue.Entry(
                title: "The server answered the upgrade with an ordinary page",
                summary: "A 2xx answer instead of 101 Switching Protocols: the request reached something that serves normal content, "
                    + "such as an SPA catch-all route, a static file server, or a middleware that answers before the WebSocket handler.",
                fixes: [
                    "Register the WebSocket route before catch-all routes (`app.get('*', …)` in Express, `try_files … /index.html` in nginx)",
                    "In the proxy, give the path its own `location /ws { … }` that proxies with the upgrade headers instead of serving files",
                    "Dev servers: proxy with WebSocket enabled (Vite `server.proxy: { '/ws': { target: 'ws://localhost:8080', ws: true } }`, webpack devServer `ws: true`)",
                    "Check `/ws` vs `/ws/`: they may hit different routes",
                ])
        case .middlewareBlocksUpgrade:
            CauseCatalogue.Entry(
                title: "A middleware prevents the server from taking over the connection",
                summary: "The server fails the upgrade itself while plain HTTP works: a wrapping middleware (logging, metrics, gzip, timeouts) "
                    + "hides the raw connection. In Go the log says \"response does not implement http.Hijacker\".",
                fixes: [
                    "Go: give the wrapping ResponseWriter a `Hijack()` that delegates to the wrapped writer (`http.Hijacker`), and an `Unwrap() http.ResponseWriter` for code using `http.ResponseController`",
                    "Register the WebSocket route outside logging, gzip and timeout middleware: `http.HandleFunc(\"/ws\", wsHandler)`, not `http.HandleFunc(\"/ws\", logMiddleware(wsHandler))`",
                    "Go: `http.TimeoutHandler` never supports hijacking; exclude the WebSocket path from it",
                    "ASGI (Starlette/FastAPI): custom middleware must pass `scope[\"type\"] == \"websocket\"` through untouched",
                ])
        case .badGateway:
            CauseCatalogue.Entry(
                title: "The proxy could not reach the WebSocket backend (502/504)",
                summary: "A proxy or load balancer answered on behalf of the backend: the backend is down, refused the connection, "
                    + "sent something the proxy could not parse, or was too slow.",
                fixes: [
                    "Check the backend is running and healthy in the load balancer's target group or the proxy's upstream",
                    "Check the proxy points at the right backend host, port and protocol (http vs https upstream)",
                    "Read the proxy's error log: nginx says `connect() failed` or `upstream prematurely closed connection`",
                    "504: the backend accepted slowly; WebSocket accepts should be fast, so look for blocking work before the upgrade",
                ])
        case .serviceUnavailable:
            CauseCatalogue.Entry(
                title: "The service is unavailable (503)",
                summary: "The server or the platform in front of it is overloaded, in maintenance, has no healthy backend, or has WebSockets turned off.",
                fixes: [
                    "Check the load balancer has healthy targets (Kubernetes readiness probes, ALB target health)",
                    "Check the platform allows WebSockets (Azure App Service: Configuration → Web sockets On; Cloudflare: Network → WebSockets On)",
                    "Check connection limits (nginx `worker_connections`, `limit_conn`; the app's maximum connections)",
                    "Clients: honour `Retry-After` and reconnect with exponential backoff and jitter",
                ])
        case .serverError:
            CauseCatalogue.Entry(
                title: "The server failed with an internal error (5xx)",
                summary: "The server answered the upgrade with a 5xx error: an exception in the WebSocket handler or in code that runs before it.",
                fixes: [
                    "Read the server's log at the time of the request: the stack trace names the failing code",
                    "Go: \"websocket: response does not implement http.Hijacker\" means a middleware wraps the ResponseWriter (see middleware-blocks-upgrade)",
                    "Check code that runs before the upgrade (session lookup, database calls) for failures",
                    "Check the WebSocket library is installed in production (uvicorn: `pip install 'uvicorn[standard]'`)",
                ])
        case .handshakeRejected:
            CauseCatalogue.Entry(
                title: "The server rejected the upgrade request (4xx)",
                summary: "The server answered the upgrade with a client error: it considers the request invalid or not allowed. "
                    + "The response body in the transcript usually says why.",
                fixes: [
                    "Read the response body and the server's log: most servers say what they rejected",
                    "Check proxies forward `Sec-WebSocket-Key` and `Sec-WebSocket-Version: 13` unchanged",
                    "429: the client reconnects too fast; use exponential backoff with jitter",
                    "Check required query parameters, subprotocols or headers the server expects",
                ])
        case .invalidAccept:
            CauseCatalogue.Entry(
                title: "The Sec-WebSocket-Accept answer is wrong",
                summary: "The server answered 101 but `Sec-WebSocket-Accept` is missing or does not match the key sent: "
                    + "an intermediary rewrote `Sec-WebSocket-Key`, or the server computes the answer wrongly.",
                fixes: [
                    "Find the intermediary that rewrites headers (security appliance, antivirus HTTPS scanning) and have the host exempted",
                    "Use wss:// so intermediaries cannot alter the handshake",
                    "If you wrote the server: Accept = base64(SHA-1(key + \"258EAFA5-E914-47DA-95CA-C5AB0DC85B11\")), using the key exactly as received",
                ])
        case .invalidUpgradeResponse:
            CauseCatalogue.Entry(
                title: "The 101 answer is not a valid WebSocket upgrade",
                summary: "The server answered 101 Switching Protocols without `Upgrade: websocket` and `Connection: Upgrade`, "
                    + "so clients cannot trust that the WebSocket protocol follows and fail the connection.",
                fixes: [
                    "Check the proxy forwards the backend's `Upgrade` and `Connection` response headers (nginx does with `proxy_http_version 1.1`)",
                    "If you wrote the server, send both headers with the 101 response",
                    "Check no header-filtering middleware or security filter removes hop-by-hop response headers",
                ])
        case .subprotocolMismatch:
            CauseCatalogue.Entry(
                title: "Client and server did not agree on a subprotocol",
                summary: "A subprotocol was offered in `Sec-WebSocket-Protocol` and the server answered with none, or with one that was not offered. "
                    + "Browsers fail such connections right after the handshake.",
                fixes: [
                    "Make the server accept the offered subprotocol and answer with exactly one of the offered names",
                    "Check both sides use the same name and version (`graphql-ws` vs `graphql-transport-ws`)",
                    "Configure the server's list: gorilla `Upgrader.Subprotocols`, Node ws `handleProtocols`, Spring `setSupportedProtocols`",
                ])
        case .extensionMismatch:
            CauseCatalogue.Entry(
                title: "The server answered with an extension that was not offered",
                summary: "`Sec-WebSocket-Extensions` in the response names an extension the client did not offer, or carries invalid parameters "
                    + "(usually permessage-deflate), so the client must fail the connection.",
                fixes: [
                    "Check the server only accepts extensions from the request and echoes valid permessage-deflate parameters",
                    "Turn off permessage-deflate on the server or proxy if its negotiation is broken",
                    "Update the WebSocket library: older versions had deflate negotiation bugs",
                ])
        case .abnormalClosure:
            CauseCatalogue.Entry(
                title: "The connection ended without a close frame (1006)",
                summary: "The TCP connection was closed or reset without a WebSocket close handshake, which browsers report as close code 1006. "
                    + "A proxy cut it, the server crashed or restarted, or the network dropped it.",
                fixes: [
                    "Run `wsdoctor diagnose URL --idle 120s`: a cut after a fixed silent period is an idle timeout",
                    "Check the server's logs for crashes, OOM kills or deploys at that moment",
                    "Send a ping every 20–30 s from the server so intermediaries see traffic and dead peers are detected",
                    "On shutdown, close connections with 1001 (going away) so clients can tell a deploy from a failure",
                    "Reconnect with exponential backoff and resume from the last message received",
                ])
        case .closedByServer:
            CauseCatalogue.Entry(
                title: "The server closed the connection",
                summary: "The server sent a close frame during the check; its close code and reason say why (`wsdoctor explain CODE`).",
                fixes: [
                    "Run `wsdoctor explain CODE` for the code received",
                    "Read the close reason and the server's log at that time",
                    "1008 and 4xxx codes are usually policy or auth decisions: check credentials, origin and the message format",
                    "1001 and 1012 during deploys are expected: reconnect with backoff",
                ])
        case .idleTimeout:
            CauseCatalogue.Entry(
                title: "A proxy or load balancer cuts idle connections",
                summary: "The connection was cut after a period without traffic. Something in the path closes connections that look idle "
                    + "(nginx proxy_read_timeout 60 s, AWS ALB 60 s, Heroku 55 s, Cloudflare 100 s).",
                fixes: [
                    "Send a WebSocket ping (or an application heartbeat) well below the timeout, e.g. every 30 s",
                    "nginx: `proxy_read_timeout 3600s; proxy_send_timeout 3600s;` in the WebSocket location",
                    "AWS ALB: raise the `idle_timeout.timeout_seconds` load balancer attribute (default 60, up to 4000)",
                    "Cloudflare's 100 s idle limit is fixed on most plans: ping more often than that",
                    "Clients: reconnect automatically with backoff and resume where they left off",
                ])
        case .pingUnanswered:
            CauseCatalogue.Entry(
                title: "The server does not answer pings",
                summary: "A ping got no pong within the timeout, although RFC 6455 requires one. "
                    + "The server is stuck, does not read from the connection, or something in the path swallows control frames.",
                fixes: [
                    "Keep a read loop running on the server: most libraries answer pings only while reading (gorilla: `ReadMessage` in a goroutine)",
                    "Check the server's event loop is not blocked by long synchronous work",
                    "Test the backend directly, bypassing proxies, to find the hop that drops frames",
                ])
        case .messageTimeout:
            CauseCatalogue.Entry(
                title: "The expected reply never came",
                summary: "After the upgrade, the message sent (`--send`, or the echo check) got no matching reply in time: "
                    + "the server ignored it, answered with something else, or the reply was lost.",
                fixes: [
                    "Check the message format the server expects (a JSON envelope, a subscribe message first)",
                    "Check `--expect` matches what the server really sends: it is a regular expression",
                    "Read the server's log for errors handling the message",
                    "Check the server flushes its writes instead of buffering small messages",
                ])
        case .protocolViolation:
            CauseCatalogue.Entry(
                title: "The server broke the WebSocket protocol",
                summary: "The server's frames violate RFC 6455 (masked server frames, reserved bits, unknown opcodes, invalid UTF-8, bad close codes, "
                    + "fragmented control frames), so clients must fail the connection.",
                fixes: [
                    "Read the `rule` in the evidence to see which requirement was broken",
                    "Use a maintained WebSocket library instead of a hand-written frame encoder",
                    "Check no intermediary alters frames (compression or inspection appliances)",
                    "Run the Autobahn TestSuite against the server",
                ])
        }
    }
}
