import Foundation

/// The transports a client reports on.
public enum TelemetryTransport: String, Sendable, CaseIterable {
    case websocket, sse, poll
}

/// What happened to one connection attempt. `fallback` is reported with the transport
/// the client fell back to.
public enum TelemetryOutcome: String, Sendable, CaseIterable {
    case connected, failed, closed, fallback
}

/// One connection event a client sent to `POST /api/telemetry`.
public struct TelemetryEvent: Sendable, Equatable {
    public var at: Date?
    public var transport: TelemetryTransport
    public var outcome: TelemetryOutcome
    public var cause: String?
    public var connectMs: Double?
    public var closeCode: Int?

    public init(at: Date? = nil, transport: TelemetryTransport, outcome: TelemetryOutcome, cause: String? = nil,
                connectMs: Double? = nil, closeCode: Int? = nil) {
        self.at = at
        self.transport = transport
        self.outcome = outcome
        self.cause = cause
        self.connectMs = connectMs
        self.closeCode = closeCode
    }
}

/// Validation of a telemetry body `{"events":[…]}`: all or nothing, so a batch with one
/// bad event is refused whole, with the field named (`events[3].outcome`).
public enum TelemetryBatch {
    public static let maxCauseLength = 64
    public static let connectMsRange = 0.0...600_000.0
    public static let closeCodeRange = 1000...4999

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        /// Not JSON at all.
        case malformed
        /// More events than allowed in one request.
        case tooManyEvents(count: Int, max: Int)
        /// A field is missing or wrong.
        case invalid(field: String, message: String)

        public var description: String {
            switch self {
            case .malformed: "the body must be JSON: {\"events\":[{\"transport\":…,\"outcome\":…}]}"
            case .tooManyEvents(let count, let max): "\(count) events in one request; at most \(max)"
            case .invalid(let field, let message): "\(field): \(message)"
            }
        }

        /// The `error` code of the HTTP answer.
        public var code: String {
            switch self {
            case .malformed: "malformed-json"
            case .tooManyEvents: "too-many-events"
            case .invalid: "invalid-event"
            }
        }
    }

    public static func parse(_ body: String, maxEvents: Int) throws(Refusal) -> [TelemetryEvent] {
        guard let json = LooseJSON.parse(body) else { throw .malformed }
        guard case .object = json else {
            throw .invalid(field: "body", message: "must be an object {\"events\":[…]}, not \(json.kind)")
        }
        guard case .array(let items)? = json["events"] else {
            throw .invalid(field: "events", message: json["events"] == nil ? "missing: send {\"events\":[…]}" : "must be an array")
        }
        guard items.count <= maxEvents else { throw .tooManyEvents(count: items.count, max: maxEvents) }
        var events: [TelemetryEvent] = []
        events.reserveCapacity(items.count)
        for (i, item) in items.enumerated() {
            events.append(try event(item, path: "events[\(i)]"))
        }
        return events
    }

    static func event(_ json: LooseJSON, path: String) throws(Refusal) -> TelemetryEvent {
        guard case .object = json else { throw .invalid(field: path, message: "must be an object, not \(json.kind)") }
        func name<E: RawRepresentable & CaseIterable>(_ key: String, _: E.Type) throws(Refusal) -> E where E.RawValue == String {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            guard case .string(let s)? = json[key] else {
                throw .invalid(field: "\(path).\(key)", message: json[key] == nil ? "missing: one of \(allowed)" : "must be a string: one of \(allowed)")
            }
            guard let value = E(rawValue: s) else {
                throw .invalid(field: "\(path).\(key)", message: "'\(s.prefix(40))' is not one of \(allowed)")
            }
            return value
        }
        var event = TelemetryEvent(transport: try name("transport", TelemetryTransport.self),
                                   outcome: try name("outcome", TelemetryOutcome.self))
        switch json["at"] {
        case nil, .null?: break
        case .string(let s)?:
            guard let date = FeatureTime.parse(s) else {
                throw .invalid(field: "\(path).at", message: "'\(s.prefix(40))' is not an RFC 3339 time such as 2026-11-21T10:00:00.000Z")
            }
            event.at = date
        case let other?: throw .invalid(field: "\(path).at", message: "must be an RFC 3339 string, not \(other.kind)")
        }
        switch json["cause"] {
        case nil, .null?: break
        case .string(let s)?:
            guard isCause(s) else {
                throw .invalid(field: "\(path).cause", message: "must be 1 to \(maxCauseLength) characters of a-z A-Z 0-9 . _ : -")
            }
            event.cause = s
        case let other?: throw .invalid(field: "\(path).cause", message: "must be a string, not \(other.kind)")
        }
        switch json["connectMs"] {
        case nil, .null?: break
        case .number(let d)? where connectMsRange.contains(d):
            event.connectMs = d
        case let other?:
            throw .invalid(field: "\(path).connectMs", message: "must be a number of milliseconds from 0 to \(Int(connectMsRange.upperBound)), not \(other.kind == "a number" ? "that number" : other.kind)")
        }
        switch json["closeCode"] {
        case nil, .null?: break
        case .number(let d)? where d == d.rounded() && d >= Double(closeCodeRange.lowerBound) && d <= Double(closeCodeRange.upperBound):
            event.closeCode = Int(d)
        case let other?:
            throw .invalid(field: "\(path).closeCode", message: "must be a WebSocket close code from \(closeCodeRange.lowerBound) to \(closeCodeRange.upperBound), not \(other.kind == "a number" ? "that number" : other.kind)")
        }
        return event
    }

    static func isCause(_ s: String) -> Bool {
        (1...maxCauseLength).contains(s.utf8.count) && s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x2E || b == 0x5F || b == 0x3A || b == 0x2D
        }
    }
}
