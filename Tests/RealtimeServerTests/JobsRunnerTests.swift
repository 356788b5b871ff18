import Foundation
import Logging
import NIOConcurrencyHelpers
import RealtimeCore
@testable import RealtimeServer
import ServiceLifecycle
import Testing

/// The job runner itself: what it publishes on `job:{id}`, how many jobs run at once,
/// and that shutdown stops running jobs.
@Suite("Demo job runner")
struct JobsRunnerTests {
    /// Runs `runner` as a service for the duration of `body`, then shuts it down gracefully
    /// and waits (bounded) for it to end.
    func running<T: Sendable>(_ runner: JobRunner, _ body: @Sendable () async throws -> T) async throws -> T {
        let group = ServiceGroup(services: [runner], gracefulShutdownSignals: [], cancellationSignals: [], logger: Logger(label: "test.jobs"))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: T
            do { result = try await body() } catch {
                tasks.cancelAll()
                throw error
            }
            await group.triggerGracefulShutdown()
            // The service must end soon after: a watchdog fails the test if it does not.
            tasks.addTask {
                try await Task.sleep(for: .seconds(10))
                throw TimedOut()
            }
            try await tasks.next()
            tasks.cancelAll()
            return result
        }
    }

    struct TimedOut: Error {}

    func nextBatch(_ mailbox: Mailbox<Delivery>, timeout: Double = 5) async -> [Delivery]? {
        await withTaskGroup(of: [Delivery]?.self) { g in
            g.addTask { await mailbox.next() }
            g.addTask { try? await Task.sleep(for: .seconds(timeout)); return nil }
            let first = await g.next() ?? nil
            g.cancelAll()
            return first
        }
    }

    func eventually(timeout: Double = 10, _ check: @Sendable () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now.advanced(by: .seconds(timeout))
        while ContinuousClock.now < deadline {
            if check() { return true }
            try await Task.sleep(for: .milliseconds(10))
        }
        return check()
    }

    @Test func progressIsPublishedOnTheJobChannelInOrderEndingDone() async throws {
        let store = InMemoryChannelStore(limits: HistoryLimits())
        let runner = JobRunner { channel, data in _ = await store.publish(channel, data: data) }
        try await running(runner) {
            let job = try #require(runner.submit(JobPlan(steps: 5, intervalMs: 10)))
            #expect(job.state == .queued && job.progress == 0)
            let mailbox = Mailbox<Delivery>(capacity: 100)
            _ = await store.subscribe(Subscription(channel: job.channel, start: .earliest), id: nil, subscriber: SubscriberID(1), mailbox: mailbox)
            var messages: [ChannelMessage] = []
            while messages.last.map({ !$0.data.text.contains(#""state":"done""#) }) ?? true {
                guard let batch = await nextBatch(mailbox) else { Issue.record("no done message; got \(messages.count)"); break }
                for case .message(let m) in batch { messages.append(m) }
            }
            let data = try messages.map { try #require(try JSONSerialization.jsonObject(with: Data($0.data.text.utf8)) as? [String: Any]) }
            #expect(messages.map(\.offset) == [1, 2, 3, 4, 5, 6])
            #expect(data.map { $0["progress"] as? Int } == [0, 20, 40, 60, 80, 100])
            #expect(data.map { $0["state"] as? String } == ["running", "running", "running", "running", "running", "done"])
            #expect(data.allSatisfy { $0["id"] as? String == job.id && $0["updatedAt"] is String })
            #expect(runner.status(job.id)?.state == .done)
        }
    }

    @Test func atMostMaxRunningJobsRunAndTheOthersWait() async throws {
        let log = NIOLockedValueBox([String]())
        let runner = JobRunner(limits: .init(maxKept: 10, maxRunning: 1, maxQueued: 1)) { _, data in
            let o = try? JSONSerialization.jsonObject(with: Data(data.text.utf8)) as? [String: Any]
            log.withLockedValue { $0.append("\(o?["id"] as? String ?? "?") \(o?["state"] as? String ?? "?")") }
        }
        try await running(runner) {
            let a = try #require(runner.submit(JobPlan(steps: 2, intervalMs: 300)))
            let b = try #require(runner.submit(JobPlan(steps: 2, intervalMs: 10)))
            #expect(runner.submit(JobPlan()) == nil)  // one running, one waiting: full
            #expect(runner.status(b.id)?.state == .queued)
            #expect(try await eventually { runner.status(b.id)?.state == .done })
            let lines = log.withLockedValue { $0 }
            let aDone = try #require(lines.firstIndex(of: "\(a.id) done"))
            let bStart = try #require(lines.firstIndex(of: "\(b.id) running"))
            #expect(aDone < bStart)
            #expect(runner.submit(JobPlan(steps: 1, intervalMs: 10)) != nil)  // room again
        }
    }

    @Test func shutdownStopsRunningJobsAsFailed() async throws {
        let runner = JobRunner { _, _ in }
        let id = try await running(runner) {
            let job = try #require(runner.submit(JobPlan(steps: 100, intervalMs: 10_000)))
            #expect(try await eventually { runner.status(job.id)?.state == .running })
            return job.id
        }
        // `running` returned: the service ended well before the job's 1000 s.
        #expect(runner.status(id)?.state == .failed)
        #expect(runner.counts.running == 0)
    }
}
