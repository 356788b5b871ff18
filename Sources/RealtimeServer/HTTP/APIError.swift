import Foundation
import Hummingbird
import RealtimeCore

/// A refusal as the spec asks: an HTTP status with `{"error":…, "message":…}`.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        fields[.cacheControl] = "no-store"
        let body = #"{"error":\#(JSONText.quote(code)),"message":\#(JSONText.quote(message))}"#
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    static func badRequest(_ message: String, code: String = "bad-request") -> APIError { .init(.badRequest, code, message) }
    static func notFound(_ what: String) -> APIError { .init(.notFound, "not-found", "\(what) not found") }
    static let unauthorized = APIError(.unauthorized, "unauthorized", "missing or wrong token: send Authorization: Bearer TOKEN or ?token=TOKEN",
                                       headers: [.wwwAuthenticate: "Bearer"])
    static func forbiddenOrigin(_ origin: String) -> APIError {
        .init(.forbidden, "origin-not-allowed", "origin \(origin.prefix(200)) is not allowed (use --allow-origin)")
    }
}

/// JSON answers with the headers every API response carries.
enum JSONResponse {
    static func make(_ json: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(string: json)))
    }
}
