/// Writes a `JSONValue` as pretty-printed JSON text, keys in the order they are stored.
///
/// Why not `JSONEncoder`: on Linux its keyed containers are backed by a hashed
/// dictionary, so key order changes from run to run (verified with Swift 6.3:
/// three encodes of one value gave two different orders), and `.sortedKeys` would
/// scatter the report's reading order. People diff reports and read them top to
/// bottom, so the order must be the contract's, every time.
///
/// The output is the house style: two-space indent, `"key": value`, empty containers
/// as `{}` / `[]`, `/` not escaped, no trailing newline.
enum OrderedJSONWriter {
    static func write(_ value: JSONValue) -> String {
        var out = ""
        write(value, level: 0, into: &out)
        return out
    }

    private static func write(_ value: JSONValue, level: Int, into out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let n): out += number(n)
        case .string(let s): string(s, into: &out)
        case .array(let items):
            guard !items.isEmpty else { out += "[]"; return }
            out += "[\n"
            for (i, item) in items.enumerated() {
                out += indent(level + 1)
                write(item, level: level + 1, into: &out)
                out += i == items.count - 1 ? "\n" : ",\n"
            }
            out += indent(level) + "]"
        case .object(let pairs):
            guard !pairs.isEmpty else { out += "{}"; return }
            out += "{\n"
            for (i, (key, item)) in pairs.enumerated() {
                out += indent(level + 1)
                string(key, into: &out)
                out += ": "
                write(item, level: level + 1, into: &out)
                out += i == pairs.count - 1 ? "\n" : ",\n"
            }
            out += indent(level) + "}"
        }
    }

    private static func indent(_ level: Int) -> String { String(repeating: "  ", count: level) }

    /// Integers print without `.0` (`443`, not `443.0`), so ports and status codes read
    /// as integers to every consumer. Other values use Swift's shortest round-trip form,
    /// which is valid JSON (`812.5`, `1e-05`). JSON has no NaN or infinity: those become
    /// `null` rather than producing a file no parser accepts.
    static func number(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n.rounded() == n, abs(n) < 1e15 { return String(Int64(n)) }
        return n.description
    }

    /// Escapes what JSON requires (`"`, `\`, control characters) and nothing else: `/`
    /// stays readable in URLs and paths, non-ASCII stays as UTF-8.
    private static func string(_ s: String, into out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
