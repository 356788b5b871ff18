import Hummingbird
import Logging

/// Gives every HTTP request an id and logs one line per answer.
///
/// The id is the client's `X-Request-Id` when it is short and made of safe characters,
/// else a new one; it goes back in the answer's `X-Request-Id` and into the logger
/// metadata (`request_id`) of everything the request logs. The access line, at info,
/// has the method, the path without its query (queries may carry `token=`), the status,
/// the duration until the answer's head and the peer address: never a header value, so
/// neither `Authorization` nor `Cookie` can reach the log.
public struct RequestLogMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    /// `X-Request-Id` (HTTPTypes spells the type `HTTPField.Name`; Hummingbird re-exports only `HTTPFields`).
    public static let header = HTTPFields.Element.Name("X-Request-Id")!

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let id = RequestIDs.accept(request.headers[Self.header]) ?? RequestIDs.make()
        var context = context
        context.logger[metadataKey: "request_id"] = .string(id)
        // Hummingbird's own lines (and `context.id`) carry the same id.
        context.logger[metadataKey: "hb.request.id"] = .string(id)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        } catch {
            log(request, context, status: 500, since: started, level: .error, error: error)
            throw error
        }
        response.headers[Self.header] = id
        log(request, context, status: Int(response.status.code), since: started, level: .info, error: nil)
        return response
    }

    private func log(_ request: Request, _ context: Context, status: Int, since started: ContinuousClock.Instant,
                     level: Logger.Level, error: (any Error)?) {
        let elapsed = ContinuousClock.now - started
        let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
        var metadata: Logger.Metadata = [
            "method": .string(request.method.rawValue),
            "path": .string(Self.loggablePath(request.uri.path)),
            "status": .stringConvertible(status),
            "duration_ms": .string(Self.milliseconds(ms)),
        ]
        if let ip = context.remoteIP { metadata["remote"] = .string(ip) }
        if let error { metadata["error"] = .string(String(describing: type(of: error))) }
        context.logger.log(level: level, "request", metadata: metadata)
    }

    /// The path alone (no query, no fragment), at most 200 characters.
    static func loggablePath(_ path: String) -> String {
        var p = Substring(path)
        if let cut = p.firstIndex(where: { $0 == "?" || $0 == "#" }) { p = p[..<cut] }
        return p.count > 200 ? String(p.prefix(200)) + "…" : String(p)
    }

    /// `12.3` with one decimal, without Foundation's formatter.
    static func milliseconds(_ ms: Double) -> String {
        let tenths = Int((max(0, ms) * 10).rounded())
        return "\(tenths / 10).\(tenths % 10)"
    }
}

/// Request ids: accepted from clients when safe to echo and log, else made here.
public enum RequestIDs {
    /// The most characters a client's id may have.
    public static let maxLength = 64

    /// `text` when it is 1 to 64 characters of `A-Z a-z 0-9 . _ : -`; nil otherwise.
    public static func accept(_ text: String?) -> String? {
        guard let text, (1...maxLength).contains(text.utf8.count) else { return nil }
        let safe = text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: ":") || b == UInt8(ascii: "-")
        }
        return safe ? text : nil
    }

    /// 16 random lowercase hex digits.
    public static func make() -> String {
        let hex = String(UInt64.random(in: .min ... .max), radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
