import Foundation

/// RFC 3339 timestamps as the HTTP API writes them (`2026-11-21T10:00:00.000Z`, UTC,
/// milliseconds) and reads them (with or without fractional seconds, any offset).
public enum FeatureTime {
    public static func text(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    public static func parse(_ text: String) -> Date? {
        guard (20...40).contains(text.utf8.count) else { return nil }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return d }
        return try? Date.ISO8601FormatStyle().parse(text)
    }
}

extension JSONText {
    /// A JSON number for a finite `Double`: integers without a fraction, others in
    /// Swift's shortest round-trip form; non-finite values become `null`.
    static func decimal(_ value: Double) -> JSONText {
        guard value.isFinite else { return .null }
        if value == value.rounded(), abs(value) < 1e15 { return JSONText(unchecked: String(Int64(value))) }
        return JSONText(unchecked: String(value))
    }

    static func optionalDecimal(_ value: Double?) -> JSONText { value.map { decimal($0) } ?? .null }
}

/// A JSON value decoded for validation: a field's exact kind (a boolean is never a
/// number) is known, so an error can name the field and say what was expected.
indirect enum LooseJSON: Decodable, Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([LooseJSON])
    case object([String: LooseJSON])

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([LooseJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: LooseJSON].self)) }
    }

    static func parse(_ text: String) -> LooseJSON? {
        try? JSONDecoder().decode(LooseJSON.self, from: Data(text.utf8))
    }

    var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    subscript(key: String) -> LooseJSON? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
}
