import NIOConcurrencyHelpers

/// The queue between the hub and one connection's writer. Bounded: when a consumer
/// falls `capacity` items behind it is marked overflowed and its connection is closed
/// with a clear code, instead of the server buffering without bound.
public final class Mailbox<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element] = []
        var head = 0
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
        var overflowed = false
    }

    public let capacity: Int
    private let state = NIOLockedValueBox(State())

    public init(capacity: Int) { self.capacity = max(1, capacity) }

    /// Adds an item; false (and the mailbox is finished) when the consumer is too slow.
    @discardableResult
    public func offer(_ item: Element) -> Bool {
        let (accepted, waiter): (Bool, CheckedContinuation<Void, Never>?) = state.withLockedValue { s in
            guard !s.finished else { return (false, nil) }
            if s.items.count - s.head >= capacity {
                s.overflowed = true
                s.finished = true
                defer { s.waiter = nil }
                return (false, s.waiter)
            }
            s.items.append(item)
            defer { s.waiter = nil }
            return (true, s.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// No more items will come; the consumer drains what is queued, then gets nil.
    public func finish() {
        let waiter = state.withLockedValue { s in
            s.finished = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    public var overflowed: Bool { state.withLockedValue { $0.overflowed } }
    public var queued: Int { state.withLockedValue { $0.items.count - $0.head } }

    /// Everything queued now, waiting until there is something; nil when finished
    /// (or cancelled). An overflowed mailbox returns nil at once: its backlog is dropped.
    public func next() async -> [Element]? {
        while true {
            let batch: [Element]?? = state.withLockedValue { s in
                if s.overflowed { return .some(nil) }
                if s.head < s.items.count {
                    let out = Array(s.items[s.head...])
                    s.items.removeAll(keepingCapacity: true)
                    s.head = 0
                    return .some(out)
                }
                return s.finished ? .some(nil) : nil
            }
            if let batch { return batch }
            if Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let now = state.withLockedValue { s -> Bool in
                        // Checked under the lock, so a cancellation that ran first is not missed.
                        if s.head < s.items.count || s.finished || Task.isCancelled { return true }
                        s.waiter = c
                        return false
                    }
                    if now { c.resume() }
                }
            } onCancel: {
                let w = self.state.withLockedValue { s in
                    defer { s.waiter = nil }
                    return s.waiter
                }
                w?.resume()
            }
        }
    }
}
