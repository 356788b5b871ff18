import Hummingbird

/// `GET /api/handshakes?probe=NONCE` (shell: no route yet).
enum HandshakeLogFeature {
    static func register(on router: Router<AppRequestContext>, state: ServerState) {}
}
