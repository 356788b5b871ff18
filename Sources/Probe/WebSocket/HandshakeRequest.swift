import Crypto
import Diagnosis
import Foundation

/// The opening handshake a browser would send (RFC 6455 §4.1), built so every byte
/// can be shown in the transcript.
public struct HandshakeRequest: Sendable, Equatable {
    public var text: String
    public var key: String
    public var expectedAccept: String

    public static let guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

    /// `Sec-WebSocket-Accept` for a key: base64(SHA-1(key + GUID)).
    public static func accept(forKey key: String) -> String {
        let digest = Insecure.SHA1.hash(data: Data((key + guid).utf8))
        return Data(digest).base64EncodedString()
    }

    /// A fresh random 16-byte key, base64.
    public static func randomKey() -> String {
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in bytes.indices { bytes[i] = UInt8.random(in: 0...255) }
        return Data(bytes).base64EncodedString()
    }

    /// - Parameters:
    ///   - path: request target with query.
    ///   - upgrade: false builds the same request without upgrade headers (a plain GET),
    ///     to see what the server says to a request whose upgrade headers were stripped.
    public init(
        path: String, hostHeader: String, origin: String?, subprotocols: [String], extensions: [String],
        extraHeaders: [(String, String)], key: String = HandshakeRequest.randomKey(), upgrade: Bool = true
    ) {
        self.key = key
        self.expectedAccept = Self.accept(forKey: key)
        var lines = ["GET \(path) HTTP/1.1", "Host: \(hostHeader)"]
        if upgrade {
            lines += ["Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Key: \(key)", "Sec-WebSocket-Version: 13"]
        } else {
            lines += ["Connection: close"]
        }
        if let origin { lines.append("Origin: \(origin)") }
        if upgrade, !subprotocols.isEmpty { lines.append("Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))") }
        if upgrade, !extensions.isEmpty { lines.append("Sec-WebSocket-Extensions: \(extensions.joined(separator: ", "))") }
        let userAgentGiven = extraHeaders.contains { $0.0.caseInsensitiveCompare("User-Agent") == .orderedSame }
        if !userAgentGiven { lines.append("User-Agent: wsdoctor/\(ToolInfo.version)") }
        for (name, value) in extraHeaders { lines.append("\(name): \(value)") }
        text = lines.joined(separator: "\r\n") + "\r\n\r\n"
    }
}
