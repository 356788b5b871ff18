import Foundation

/// A message a client sends on `/ws`, decoded and checked.
public enum ClientMessage: Hashable, Sendable {
    case subscribe(Subscription)
    case unsubscribe(ChannelName)
    case publish(ChannelName, data: JSONText)
    case ping
    case echo(data: JSONText)
}

/// A decoded client frame: the message and the `id` its reply must carry.
public struct ClientFrame: Hashable, Sendable {
    public let id: JSONText?
    public let message: ClientMessage
}

/// Why a client frame was refused.
public enum ClientFrameError: Error, Hashable, Sendable {
    /// Not a JSON object with a string `op`: the connection is closed with 4400.
    case malformed(String)
    /// A well-formed message with a mistake: answered with an `error` reply, the
    /// connection stays open.
    case rejected(id: JSONText?, code: String, message: String)
}

extension ClientFrame {
    /// Decodes one text frame. Never trusts it: type of every field is checked.
    public static func decode(_ text: String) -> Result<ClientFrame, ClientFrameError> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            return .failure(.malformed("a message must be a JSON object"))
        }
        guard let op = object["op"] as? String else { return .failure(.malformed("the message has no string \"op\"")) }
        var id: JSONText?
        if let raw = object["id"] {
            if let s = raw as? String {
                id = .string(s)
            } else if let n = raw as? NSNumber, !Self.isBool(n), let j = JSONText(value: n) {
                id = j
            } else {
                return .failure(.rejected(id: nil, code: "bad-request", message: "\"id\" must be a number or a string"))
            }
        }
        func reject(_ code: String, _ message: String) -> Result<ClientFrame, ClientFrameError> {
            .failure(.rejected(id: id, code: code, message: message))
        }
        func channel() -> Result<ChannelName, ClientFrameError> {
            guard let raw = object["channel"] as? String else {
                return .failure(.rejected(id: id, code: "bad-channel", message: "\"channel\" is missing or not a string"))
            }
            guard let name = ChannelName(raw) else {
                return .failure(.rejected(id: id, code: "bad-channel",
                                          message: Subscription.ParseError.badChannel(raw).description))
            }
            return .success(name)
        }
        switch op {
        case "subscribe":
            let name: ChannelName
            switch channel() {
            case .success(let n): name = n
            case .failure(let e): return .failure(e)
            }
            var start = StartPoint.live
            if let since = object["since"] {
                guard let text = since as? String else { return reject("bad-since", "\"since\" must be a string") }
                do { start = try StartPoint.parse(text) } catch { return reject("bad-since", error.description) }
            }
            return .success(ClientFrame(id: id, message: .subscribe(Subscription(channel: name, start: start))))
        case "unsubscribe":
            switch channel() {
            case .success(let n): return .success(ClientFrame(id: id, message: .unsubscribe(n)))
            case .failure(let e): return .failure(e)
            }
        case "publish":
            let name: ChannelName
            switch channel() {
            case .success(let n): name = n
            case .failure(let e): return .failure(e)
            }
            guard let value = object["data"], let data = JSONText(value: value) else {
                return reject("bad-request", "\"data\" is missing")
            }
            return .success(ClientFrame(id: id, message: .publish(name, data: data)))
        case "ping":
            return .success(ClientFrame(id: id, message: .ping))
        case "echo":
            let data = object["data"].flatMap { JSONText(value: $0) } ?? .null
            return .success(ClientFrame(id: id, message: .echo(data: data)))
        default:
            return reject("unknown-op", "unknown op '\(op.prefix(40))': use subscribe, unsubscribe, publish, ping or echo")
        }
    }

    /// JSONSerialization gives booleans as NSNumber; tell them apart from numbers.
    private static func isBool(_ n: NSNumber) -> Bool {
        ["c", "B"].contains(String(cString: n.objCType))
    }
}
