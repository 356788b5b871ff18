import Foundation
import NIOCore
import NIOWebSocket

/// RFC 6455 rules a server's frames must follow, checked one frame at a time with
/// the little state they need (an unfinished fragmented message). Pure.
struct FrameRules {
    struct Violation: Error, Equatable {
        var rule: String
        var detail: String
    }

    /// A message or control frame the session should act on.
    enum Incoming: Equatable {
        case text(String)
        case binary(Int)
        case ping(ByteBuffer)
        case pong(ByteBuffer)
        case close(code: Int?, reason: String)
    }

    /// Extensions the server accepted (RSV1 is legal with permessage-deflate).
    var negotiatedExtensions: [String] = []
    private var fragmented: (opcode: WebSocketOpcode, data: ByteBuffer)?
    /// Largest reassembled message accepted, so fragments cannot grow memory unbounded.
    var maxMessageSize = 1 << 20

    init(negotiatedExtensions: [String], maxMessageSize: Int) {
        self.negotiatedExtensions = negotiatedExtensions
        self.maxMessageSize = maxMessageSize
    }

    mutating func accept(_ frame: WebSocketFrame) throws(Violation) -> Incoming? {
        if frame.maskKey != nil {
            throw Violation(rule: "masked-frame", detail: "the server sent a masked frame (RFC 6455 §5.1: servers must not mask)")
        }
        let deflate = negotiatedExtensions.contains { $0.lowercased().hasPrefix("permessage-deflate") }
        if frame.rsv2 || frame.rsv3 || (frame.rsv1 && !deflate) {
            throw Violation(rule: "reserved-bits", detail: "a frame has reserved bits set without a negotiated extension (RFC 6455 §5.2)")
        }
        let opcode = frame.opcode
        let known: [WebSocketOpcode] = [.continuation, .text, .binary, .connectionClose, .ping, .pong]
        guard known.contains(opcode) else {
            throw Violation(rule: "bad-opcode", detail: "unknown opcode 0x\(String(UInt8(webSocketOpcode: opcode), radix: 16)) (RFC 6455 §5.2)")
        }
        if opcode.isControlOpcode {
            if !frame.fin {
                throw Violation(rule: "fragmented-control-frame", detail: "a control frame was fragmented (RFC 6455 §5.5)")
            }
            return try control(opcode, frame.unmaskedData)
        }
        switch opcode {
        case .continuation:
            guard var partial = fragmented else {
                throw Violation(rule: "unexpected-continuation", detail: "a continuation frame arrived with no message in progress (RFC 6455 §5.4)")
            }
            var data = frame.unmaskedData
            guard partial.data.readableBytes + data.readableBytes <= maxMessageSize else {
                throw Violation(rule: "message-too-large", detail: "a fragmented message grew past \(maxMessageSize) bytes")
            }
            partial.data.writeBuffer(&data)
            if frame.fin {
                fragmented = nil
                return try message(partial.opcode, partial.data)
            }
            fragmented = partial
            return nil
        default:
            if fragmented != nil {
                throw Violation(rule: "interleaved-message", detail: "a new data frame started before the fragmented message ended (RFC 6455 §5.4)")
            }
            if frame.fin { return try message(opcode, frame.unmaskedData) }
            fragmented = (opcode, frame.unmaskedData)
            return nil
        }
    }

    private func message(_ opcode: WebSocketOpcode, _ data: ByteBuffer) throws(Violation) -> Incoming {
        if opcode == .text {
            guard let text = String(validating: data.readableBytesView, as: UTF8.self) else {
                throw Violation(rule: "invalid-utf8", detail: "a text message is not valid UTF-8 (RFC 6455 §8.1)")
            }
            return .text(text)
        }
        return .binary(data.readableBytes)
    }

    private func control(_ opcode: WebSocketOpcode, _ data: ByteBuffer) throws(Violation) -> Incoming {
        switch opcode {
        case .ping: return .ping(data)
        case .pong: return .pong(data)
        default:
            var payload = data
            if payload.readableBytes == 0 { return .close(code: nil, reason: "") }
            guard payload.readableBytes >= 2, let code = payload.readInteger(as: UInt16.self) else {
                throw Violation(rule: "bad-close-payload", detail: "a close frame has a 1-byte payload (RFC 6455 §5.5.1)")
            }
            let valid = (1000...1003).contains(code) || (1007...1014).contains(code) || (3000...4999).contains(code)
            guard valid else {
                throw Violation(rule: "bad-close-code", detail: "close code \(code) may not be sent on the wire (RFC 6455 §7.4)")
            }
            guard let reason = String(validating: payload.readableBytesView, as: UTF8.self) else {
                throw Violation(rule: "invalid-utf8", detail: "the close reason is not valid UTF-8 (RFC 6455 §5.5.1)")
            }
            return .close(code: Int(code), reason: reason)
        }
    }
}
