import Foundation

/// Where a demo job is: `queued` until a runner slot frees, then `running`, then
/// `done` or `failed`.
public enum JobState: String, Sendable, CaseIterable {
    case queued, running, done, failed

    public var isFinished: Bool { self == .done || self == .failed }
}

/// A job's latest state: the answer of `GET /api/status/{id}` and the data of every
/// message on `job:{id}` (one shape, so a client decodes both the same way).
public struct JobStatus: Sendable, Equatable {
    public let id: String
    public var state: JobState
    public var progress: Int
    public var updatedAt: Date

    public init(id: String, state: JobState, progress: Int, updatedAt: Date) {
        self.id = id
        self.state = state
        self.progress = progress
        self.updatedAt = updatedAt
    }

    /// `{"id":…,"state":…,"progress":N,"updatedAt":RFC3339}`
    public var json: JSONText {
        var w = JSONObjectWriter()
        w.add("id", id)
        w.add("state", state.rawValue)
        w.add("progress", progress)
        w.add("updatedAt", FeatureTime.text(updatedAt))
        return w.json
    }

    /// The job's channel, `job:{id}`.
    public var channel: ChannelName { ChannelName("job:" + id)! }
}

/// Job identifiers: 12 characters of lower-case Crockford base32, random (not guessable,
/// no collision across restarts), so `job:{id}` is always a valid channel name.
public enum JobID {
    static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")
    public static let length = 12

    public static func make<G: RandomNumberGenerator>(using generator: inout G) -> String {
        String((0..<length).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    public static func isValid(_ text: some StringProtocol) -> Bool {
        text.count == length && text.allSatisfy { alphabet.contains($0) }
    }
}

/// How a demo job runs: `steps` progress updates `intervalMs` apart, optionally failing
/// once progress reaches `failAt`. A client may shape its job with the optional body
/// `{"steps":N,"intervalMs":M,"failAt":P}`; every value is bounded.
public struct JobPlan: Sendable, Equatable {
    public var steps: Int
    public var intervalMs: Int
    public var failAt: Int?

    public static let stepsRange = 1...100
    public static let intervalRange = 10...10_000
    public static let failAtRange = 1...100

    public init(steps: Int = 10, intervalMs: Int = 300, failAt: Int? = nil) {
        self.steps = steps
        self.intervalMs = intervalMs
        self.failAt = failAt
    }

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let field: String
        public let message: String
        public var description: String { "\(field): \(message)" }
    }

    /// The optional request body: empty, or a JSON object whose known fields are
    /// checked (unknown fields are ignored).
    public static func parse(_ body: String, defaults: JobPlan = JobPlan()) throws(Invalid) -> JobPlan {
        var plan = defaults
        guard !body.allSatisfy({ $0.isWhitespace }) else { return plan }
        guard let json = LooseJSON.parse(body) else {
            throw Invalid(field: "body", message: "the body must be empty or a JSON object such as {\"steps\":10,\"intervalMs\":300}")
        }
        guard case .object = json else { throw Invalid(field: "body", message: "the body must be a JSON object, not \(json.kind)") }
        func integer(_ key: String, _ range: ClosedRange<Int>) throws(Invalid) -> Int? {
            switch json[key] {
            case nil, .null?: return nil
            case .number(let d)? where d == d.rounded() && d >= Double(range.lowerBound) && d <= Double(range.upperBound):
                return Int(d)
            case let other?:
                throw Invalid(field: key, message: "must be an integer from \(range.lowerBound) to \(range.upperBound), not \(other.kind == "a number" ? "that number" : other.kind)")
            }
        }
        if let s = try integer("steps", stepsRange) { plan.steps = s }
        if let i = try integer("intervalMs", intervalRange) { plan.intervalMs = i }
        if let f = try integer("failAt", failAtRange) { plan.failAt = f }
        return plan
    }

    /// Every state the job goes through, in order: `running` at 0 when it starts, one
    /// update per step, ending `done` at 100 or `failed` where `failAt` is reached.
    public var updates: [(state: JobState, progress: Int)] {
        var out: [(state: JobState, progress: Int)] = [(.running, 0)]
        let steps = max(1, self.steps)
        for step in 1...steps {
            let progress = step * 100 / steps
            if let failAt, progress >= failAt {
                out.append((.failed, progress))
                break
            }
            out.append(step == steps ? (.done, 100) : (.running, progress))
        }
        return out
    }
}

/// The demo jobs a server knows: bounded in how many it keeps (the oldest finished are
/// forgotten first) and in how many may wait or run at once (beyond that, refused).
/// Pure: callers pass the time and the random source.
public struct JobTable: Sendable {
    public struct Limits: Sendable, Equatable {
        public var maxKept: Int
        public var maxRunning: Int
        public var maxQueued: Int

        public init(maxKept: Int = 1000, maxRunning: Int = 64, maxQueued: Int = 256) {
            self.maxRunning = max(1, maxRunning)
            self.maxQueued = max(0, maxQueued)
            self.maxKept = max(maxKept, self.maxRunning + self.maxQueued + 1)
        }
    }

    private struct Entry: Sendable {
        var status: JobStatus
        let plan: JobPlan
    }

    public let limits: Limits
    private var jobs: [String: Entry] = [:]
    private var queue = FIFO()
    private var finishedOrder = FIFO()
    public private(set) var running = 0

    public init(limits: Limits = Limits()) { self.limits = limits }

    public var count: Int { jobs.count }
    public var queued: Int { queue.count }

    public func status(_ id: String) -> JobStatus? { jobs[id]?.status }

    /// Adds a queued job; nil when as many jobs wait or run as the limits allow.
    public mutating func add<G: RandomNumberGenerator>(plan: JobPlan, now: Date, using generator: inout G) -> JobStatus? {
        guard running + queue.count < limits.maxRunning + limits.maxQueued else { return nil }
        while jobs.count >= limits.maxKept {
            guard let oldest = finishedOrder.pop() else { return nil }
            jobs[oldest] = nil
        }
        var id = JobID.make(using: &generator)
        while jobs[id] != nil { id = JobID.make(using: &generator) }
        let status = JobStatus(id: id, state: .queued, progress: 0, updatedAt: now)
        jobs[id] = Entry(status: status, plan: plan)
        queue.push(id)
        return status
    }

    /// Takes the oldest queued job if a running slot is free; it is `running` from now.
    public mutating func startNext(now: Date) -> (status: JobStatus, plan: JobPlan)? {
        guard running < limits.maxRunning else { return nil }
        while let id = queue.pop() {
            guard var entry = jobs[id], entry.status.state == .queued else { continue }
            entry.status.state = .running
            entry.status.updatedAt = now
            jobs[id] = entry
            running += 1
            return (entry.status, entry.plan)
        }
        return nil
    }

    /// Records a running job's progress; nil when the job is unknown or already finished.
    @discardableResult
    public mutating func record(id: String, state: JobState, progress: Int, now: Date) -> JobStatus? {
        guard var entry = jobs[id], entry.status.state == .running, state != .queued else { return nil }
        entry.status.state = state
        entry.status.progress = min(100, max(0, progress))
        entry.status.updatedAt = now
        jobs[id] = entry
        if state.isFinished {
            running -= 1
            finishedOrder.push(id)
        }
        return entry.status
    }

    /// A first-in first-out list of ids that compacts itself as it is consumed.
    private struct FIFO: Sendable {
        private var items: [String] = []
        private var head = 0

        var count: Int { items.count - head }

        mutating func push(_ id: String) { items.append(id) }

        mutating func pop() -> String? {
            guard head < items.count else { return nil }
            defer {
                head += 1
                if head > 64 && head * 2 > items.count {
                    items.removeFirst(head)
                    head = 0
                }
            }
            return items[head]
        }
    }
}
