import Foundation

/// A JSON value kept as its compact text, so a message published once is written to
/// every subscriber without re-encoding.
public struct JSONText: Hashable, Sendable, CustomStringConvertible {
    public let text: String
    public var description: String { text }

    /// Text known to be valid compact JSON (built by this module).
    init(unchecked text: String) { self.text = text }

    /// Parses `text` and keeps its canonical compact form; nil when it is not JSON.
    public init?(validating text: String) {
        guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else {
            return nil
        }
        self.init(value: value)
    }

    /// From a value `JSONSerialization` produced.
    init?(value: Any) {
        guard let data = try? JSONSerialization.data(
            withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes])
        else { return nil }
        text = String(decoding: data, as: UTF8.self)
    }

    public static func string(_ value: String) -> JSONText { JSONText(unchecked: quote(value)) }
    public static func number(_ value: Int) -> JSONText { JSONText(unchecked: String(value)) }
    public static let null = JSONText(unchecked: "null")

    /// A JSON string literal for `value`.
    public static func quote(_ value: String) -> String {
        var out = "\""
        out.reserveCapacity(value.utf8.count + 2)
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x2028 || scalar.value == 0x2029:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// Builds a JSON object's text field by field, in order.
struct JSONObjectWriter {
    private var parts: [String] = []

    mutating func add(_ key: String, _ value: JSONText) { parts.append("\(JSONText.quote(key)):\(value.text)") }
    mutating func add(_ key: String, _ value: String) { add(key, .string(value)) }
    mutating func add(_ key: String, _ value: UInt64) { add(key, JSONText(unchecked: String(value))) }
    mutating func add(_ key: String, _ value: Int) { add(key, JSONText(unchecked: String(value))) }
    mutating func add(_ key: String, _ value: Bool) { add(key, JSONText(unchecked: value ? "true" : "false")) }

    var text: String { "{" + parts.joined(separator: ",") + "}" }
    var json: JSONText { JSONText(unchecked: text) }
}
