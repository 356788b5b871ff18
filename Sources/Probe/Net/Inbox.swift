import NIOConcurrencyHelpers
import NIOCore

/// Bytes received on one connection, waiting to be read by the probe logic.
///
/// A pump task moves bytes from the `NIOAsyncChannel` into the inbox; the probe reads
/// them with a deadline. The inbox is bounded: when `limit` bytes are unread the pump
/// waits, so NIO stops reading from the socket and a flooding peer cannot grow memory.
final class Inbox: Sendable {
    enum End: Sendable, Equatable {
        case eof
        case reset
        case error(String)
    }

    enum Event: Sendable {
        case data(ByteBuffer)
        case ended(End)
        case timeout
    }

    private struct State {
        var buffer: ByteBuffer?
        var end: End?
        var readerWaiting: CheckedContinuation<Void, Never>?
        var writerWaiting: CheckedContinuation<Void, Never>?
        var totalReceived = 0
    }

    private let state = NIOLockedValueBox(State())
    let limit: Int

    init(limit: Int = 1 << 20) { self.limit = limit }

    /// Total bytes received so far (for "N bytes before the timeout" evidence).
    var totalReceived: Int { state.withLockedValue { $0.totalReceived } }

    // MARK: pump side

    func append(_ chunk: ByteBuffer) async {
        let reader: CheckedContinuation<Void, Never>? = state.withLockedValue { s in
            if s.buffer == nil { s.buffer = chunk } else { var c = chunk; s.buffer!.writeBuffer(&c) }
            s.totalReceived += chunk.readableBytes
            defer { s.readerWaiting = nil }
            return s.readerWaiting
        }
        reader?.resume()
        // Backpressure: wait until the reader has taken the bytes.
        while state.withLockedValue({ ($0.buffer?.readableBytes ?? 0) >= limit && $0.end == nil }) {
            await withTaskCancellationHandler {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = state.withLockedValue { s -> Bool in
                        // Checked under the lock: a cancellation handler that already ran found no waiter.
                        if (s.buffer?.readableBytes ?? 0) < limit || s.end != nil || Task.isCancelled { return true }
                        s.writerWaiting = c
                        return false
                    }
                    if resumeNow { c.resume() }
                }
            } onCancel: {
                self.wakeWriter()
            }
            if Task.isCancelled { return }
        }
    }

    func finish(_ end: End) {
        let (reader, writer) = state.withLockedValue { s in
            if s.end == nil { s.end = end }
            defer { s.readerWaiting = nil; s.writerWaiting = nil }
            return (s.readerWaiting, s.writerWaiting)
        }
        reader?.resume()
        writer?.resume()
    }

    private func wakeWriter() {
        let w = state.withLockedValue { s in
            defer { s.writerWaiting = nil }
            return s.writerWaiting
        }
        w?.resume()
    }

    private func wakeReader() {
        let r = state.withLockedValue { s in
            defer { s.readerWaiting = nil }
            return s.readerWaiting
        }
        r?.resume()
    }

    // MARK: reader side

    /// Takes everything buffered; waits until `deadline` for something to arrive.
    func next(deadline: ContinuousClock.Instant) async -> Event {
        while true {
            if let event = takeIfReady() { return event }
            if ContinuousClock.now >= deadline { return .timeout }
            let arrived = await withTaskGroup(of: Bool.self) { group in
                group.addTask { await self.waitForSomething(); return true }
                group.addTask {
                    try? await Task.sleep(until: deadline, clock: .continuous)
                    return false
                }
                let first = await group.next() ?? false
                group.cancelAll()
                self.wakeReader()
                return first
            }
            if !arrived, takeIfPeekable() == false { return .timeout }
            if Task.isCancelled { return .timeout }
        }
    }

    private func takeIfPeekable() -> Bool {
        state.withLockedValue { ($0.buffer?.readableBytes ?? 0) > 0 || $0.end != nil }
    }

    private func takeIfReady() -> Event? {
        let (event, writer): (Event?, CheckedContinuation<Void, Never>?) = state.withLockedValue { s in
            if let b = s.buffer, b.readableBytes > 0 {
                s.buffer = nil
                defer { s.writerWaiting = nil }
                return (.data(b), s.writerWaiting)
            }
            if let end = s.end { return (.ended(end), nil) }
            return (nil, nil)
        }
        writer?.resume()
        return event
    }

    private func waitForSomething() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLockedValue { s -> Bool in
                    // Checked under the lock: a cancellation handler that already ran found no waiter.
                    if (s.buffer?.readableBytes ?? 0) > 0 || s.end != nil || Task.isCancelled { return true }
                    s.readerWaiting = c
                    return false
                }
                if resumeNow { c.resume() }
            }
        } onCancel: {
            self.wakeReader()
        }
    }
}
