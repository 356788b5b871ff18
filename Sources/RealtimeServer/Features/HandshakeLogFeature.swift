import Hummingbird
import RealtimeCore

/// `GET /api/handshakes?probe=NONCE`: what the server saw of the upgrade attempts made
/// with that nonce in the last 10 minutes (`{"probe":…,"attempts":[…]}`, oldest first).
enum HandshakeLogFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {
        router.get("/api/handshakes") { request, _ in
            try state.access.check(request)
            guard let nonce = request.uri.queryParameters.get("probe") else {
                throw APIError.badRequest("give the nonce used on the upgrade: /api/handshakes?probe=NONCE", code: "bad-probe")
            }
            guard ProbeNonce.isValid(nonce) else {
                throw APIError.badRequest("the probe nonce must be 16 to 64 characters of A-Z a-z 0-9 - _", code: "bad-probe")
            }
            let attempts = state.handshakeLog.attempts(nonce: nonce).map(\.json).joined(separator: ",")
            return JSONResponse.make(#"{"probe":\#(JSONText.quote(nonce)),"attempts":[\#(attempts)]}"#)
        }
    }
}
