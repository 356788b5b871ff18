import Hummingbird
import RealtimeCore
import ServiceLifecycle

/// Demo jobs: `POST /api/jobs` starts a simulated job that publishes its progress
/// 0..100 on `job:{id}`; `GET /api/status/{id}` gives its latest state. No token; origins
/// are checked. The optional body `{"steps":N,"intervalMs":M,"failAt":P}` shapes the job
/// (defaults: 10 steps, 300 ms apart, no failure).
enum JobsFeature {
    static let limits = JobTable.Limits(maxKept: 1000, maxRunning: 64, maxQueued: 256)
    static let bodyLimit = 4096

    static func register(on router: Router<AppRequestContext>, state: ServerState) async throws -> [any Service] {
        let runner = JobRunner(limits: limits) { channel, data in
            _ = await state.store.publish(channel, data: data)
            state.metrics.published()
        }
        register(on: router, state: state, runner: runner)
        return [runner]
    }

    static func register(on router: Router<AppRequestContext>, state: ServerState, runner: JobRunner) {
        router.post("/api/jobs") { request, _ in
            try state.access.check(request)
            let body: ByteBuffer
            do { body = try await request.body.collect(upTo: bodyLimit) } catch {
                throw APIError(.contentTooLarge, "too-large", "a job's options are at most \(bodyLimit) bytes")
            }
            let plan: JobPlan
            do throws(JobPlan.Invalid) { plan = try JobPlan.parse(String(buffer: body), defaults: runner.defaults) } catch {
                throw APIError.badRequest(error.description, code: "bad-job")
            }
            guard let job = runner.submit(plan) else {
                throw APIError(.serviceUnavailable, "too-many-jobs",
                               "\(limits.maxRunning + limits.maxQueued) jobs are already running or waiting; try again shortly",
                               headers: [.retryAfter: "5"])
            }
            let statusURL = "/api/status/\(job.id)"
            let json = #"{"id":\#(JSONText.quote(job.id)),"channel":\#(JSONText.quote(job.channel.value)),"statusURL":\#(JSONText.quote(statusURL))}"#
            var response = JSONResponse.make(json, status: .created)
            response.headers[.location] = statusURL
            return response
        }

        router.get("/api/status/:id") { request, context in
            try state.access.check(request)
            let id = context.parameters.get("id") ?? ""
            guard JobID.isValid(id), let status = runner.status(id) else { throw APIError.notFound("job '\(id.prefix(40))'") }
            return JSONResponse.make(status.json.text)
        }
    }
}
