import Foundation
import NIOConcurrencyHelpers
import RealtimeCore
import ServiceLifecycle

/// Runs the demo jobs: a service whose task group holds every running job (at most
/// `limits.maxRunning`; the others wait `queued`), cancelled on shutdown. Each job
/// publishes its status on `job:{id}` at every step.
final class JobRunner: Service, Sendable {
    typealias Publish = @Sendable (ChannelName, JSONText) async -> Void

    let defaults: JobPlan
    private let table: NIOLockedValueBox<JobTable>
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation
    private let publish: Publish
    private let now: @Sendable () -> Date

    init(limits: JobTable.Limits = .init(), defaults: JobPlan = JobPlan(),
         now: @escaping @Sendable () -> Date = { Date() }, publish: @escaping Publish) {
        self.defaults = defaults
        self.table = NIOLockedValueBox(JobTable(limits: limits))
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        self.publish = publish
        self.now = now
    }

    /// Queues a job; nil when as many jobs wait or run as the limits allow.
    func submit(_ plan: JobPlan) -> JobStatus? {
        let at = now()
        let status = table.withLockedValue { t in
            var random = SystemRandomNumberGenerator()
            return t.add(plan: plan, now: at, using: &random)
        }
        if status != nil { wake.yield() }
        return status
    }

    func status(_ id: String) -> JobStatus? { table.withLockedValue { $0.status(id) } }

    var counts: (running: Int, queued: Int, kept: Int) { table.withLockedValue { ($0.running, $0.queued, $0.count) } }

    func run() async throws {
        await withDiscardingTaskGroup { group in
            for await _ in wakeups.cancelOnGracefulShutdown() {
                while let next = table.withLockedValue({ $0.startNext(now: now()) }) {
                    group.addTask { await self.execute(next.status, next.plan) }
                }
            }
            // Shutting down: stop the running jobs (they end `failed`); queued ones stay queued.
            group.cancelAll()
        }
    }

    private func execute(_ started: JobStatus, _ plan: JobPlan) async {
        defer { wake.yield() }  // a slot is free: start the next queued job
        let channel = started.channel
        var progress = 0
        for (step, update) in plan.updates.enumerated() {
            if step > 0 {
                do {
                    try await Task.sleep(for: .milliseconds(plan.intervalMs))
                } catch {
                    if let failed = record(started.id, .failed, progress) { await publish(channel, failed.json) }
                    return
                }
            }
            progress = update.progress
            guard let status = record(started.id, update.state, update.progress) else { return }
            await publish(channel, status.json)
        }
    }

    private func record(_ id: String, _ state: JobState, _ progress: Int) -> JobStatus? {
        let at = now()
        return table.withLockedValue { $0.record(id: id, state: state, progress: progress, now: at) }
    }
}
