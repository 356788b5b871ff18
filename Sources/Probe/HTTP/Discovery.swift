import Diagnosis
import Foundation

/// Reads a wsdoctor server's discovery document and handshake log. Anything that does
/// not have the expected shape is ignored: a non-wsdoctor server is not an error.
enum Discovery {
    struct Transports: Sendable, Equatable {
        var websocket: String?
        var sse: String
        var poll: String
    }

    static func parse(_ body: String) -> Transports? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            (object["protocol"] as? String)?.hasPrefix("wsdoctor.realtime/") == true,
            let transports = object["transports"] as? [String: Any],
            let sse = transports["sse"] as? String, let poll = transports["poll"] as? String,
            sse.hasPrefix("/"), poll.hasPrefix("/"), sse.count < 256, poll.count < 256
        else { return nil }
        let websocket = (transports["websocket"] as? String).flatMap { $0.hasPrefix("/") && $0.count < 256 ? $0 : nil }
        return Transports(websocket: websocket, sse: sse, poll: poll)
    }

    static func parseHandshakeLog(_ body: String) -> ServerHandshakeView? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
            let attempts = object["attempts"] as? [[String: Any]], let first = attempts.first
        else { return nil }
        return ServerHandshakeView(
            upgrade: first["upgrade"] as? String, connection: first["connection"] as? String,
            keyArrived: first["key"] as? Bool ?? false, version: first["version"] as? String,
            origin: first["origin"] as? String, via: first["via"] as? Bool ?? false,
            forwardedFor: first["forwardedFor"] as? Bool ?? false, outcome: first["outcome"] as? String ?? "",
            status: first["status"] as? Int)
    }
}
