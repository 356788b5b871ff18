import Foundation
import Hummingbird
import RealtimeCore
import ServiceLifecycle

/// Diagnostics reports: `POST /api/diagnostics` stores a JSON object (at most
/// `maxReportSize`, credentials dropped) durably and answers a short code
/// `{"id":"K7Q2-9XMD"}`; `GET /api/diagnostics/{id}` (admin token; codes as a user
/// reads them, any case, spaces or dashes) answers `{"id","receivedAt","report"}`;
/// `GET /api/diagnostics?limit=N` (admin token) lists the newest.
enum ReportsFeature {
    /// Reports per second per client, and the burst allowed.
    static let rate = 0.5
    static let burst = 20.0
    static let listDefault = 50
    static let listMax = 500

    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] {
        let store = try await ReportStore.open(directory: state.configuration.dataDirectory, logger: state.logger)
        let stored = try await store.count()
        state.metrics.reportsInStore(stored)
        state.logger.info("reports database open", metadata: ["path": .string(store.path), "reports": .stringConvertible(stored)])
        register(on: router, state: state, store: store, limits: ReportRateLimits(rate: rate, burst: burst))
        return [ReportStoreService(store: store)]
    }

    static func register(on router: Router<AppRequestContext>, state: ServerState, store: ReportStore, limits: ReportRateLimits) {
        router.post("/api/diagnostics") { request, context in
            try state.access.check(request)
            let limit = state.configuration.limits.maxReportSize
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: limit) } catch {
                throw APIError(.contentTooLarge, "too-large", "the report is larger than \(limit) bytes")
            }
            let report: JSONText
            let dropped: Int
            do throws(DiagnosticsReportBody.Refusal) { (report, dropped) = try DiagnosticsReportBody.sanitize(String(buffer: body)) } catch {
                throw APIError.badRequest(error.description, code: error.code)
            }
            guard limits.allow(client: context.remoteIP ?? "unknown") else {
                throw APIError(.tooManyRequests, "rate-limited", "too many reports from this address; try again in a few seconds",
                               headers: [.retryAfter: "2"])
            }
            let code: String
            do { code = try await store.insert(report, receivedAt: Date()) } catch {
                state.logger.error("could not store a report", metadata: ["error": .string("\(error)")])
                throw APIError(.serviceUnavailable, "store-unavailable", "the report could not be stored; try again")
            }
            state.metrics.reportStored()
            state.logger.info("report stored", metadata: [
                "code": .string(code), "bytes": .stringConvertible(report.text.utf8.count), "credentialsDropped": .stringConvertible(dropped),
            ])
            return JSONResponse.make(#"{"id":\#(JSONText.quote(code))}"#, status: .created)
        }

        router.get("/api/diagnostics/:id") { request, context in
            try state.access.check(request)
            try AdminAccess.check(state, request)
            let raw = context.parameters.get("id").map { $0.removingPercentEncoding ?? $0 } ?? ""
            guard let code = ReportCode.normalize(raw) else { throw APIError.notFound("report '\(raw.prefix(40))'") }
            let found: ReportStore.Stored?
            do { found = try await store.get(code) } catch {
                throw APIError(.serviceUnavailable, "store-unavailable", "the reports database cannot be read right now")
            }
            guard let found else { throw APIError.notFound("report \(code)") }
            return JSONResponse.make(#"{"id":\#(JSONText.quote(found.code)),"receivedAt":\#(JSONText.quote(FeatureTime.text(found.receivedAt))),"report":\#(found.body)}"#)
        }

        router.get("/api/diagnostics") { request, _ in
            try state.access.check(request)
            try AdminAccess.check(state, request)
            var limit = listDefault
            if let text = request.uri.queryParameters.get("limit") {
                guard let n = Int(text), (1...listMax).contains(n) else {
                    throw APIError.badRequest("limit must be a whole number from 1 to \(listMax)", code: "bad-limit")
                }
                limit = n
            }
            let summaries: [ReportStore.Summary]
            let total: Int
            do {
                summaries = try await store.list(limit: limit)
                total = try await store.count()
            } catch {
                throw APIError(.serviceUnavailable, "store-unavailable", "the reports database cannot be read right now")
            }
            let items = summaries.map {
                #"{"id":\#(JSONText.quote($0.code)),"receivedAt":\#(JSONText.quote(FeatureTime.text($0.receivedAt))),"bytes":\#($0.bytes)}"#
            }
            return JSONResponse.make(#"{"total":\#(total),"reports":[\#(items.joined(separator: ","))]}"#)
        }
    }
}
