import Hummingbird

/// A stream's response body writer, with writes bounded in time: a client that stops
/// reading fills its TCP window and would hold a write (and its connection slot)
/// forever; after `stallTimeout` the write is cancelled and the stream ends.
///
/// The writer is used by one task at a time: each write runs in one child task that the
/// stream awaits before doing anything else, so `@unchecked Sendable` only covers moving
/// it into that child task, never sharing it.
final class BodyWriterBox: @unchecked Sendable {
    struct Stalled: Error, CustomStringConvertible {
        let seconds: Double
        var description: String { "the client did not accept data for \(seconds) s" }
    }

    private var writer: (any ResponseBodyWriter)?
    let stallTimeout: Double

    init(_ writer: any ResponseBodyWriter, stallTimeout: Double) {
        self.writer = writer
        self.stallTimeout = stallTimeout
    }

    func write(_ buffer: ByteBuffer) async throws {
        try await bounded { try await $0.writer?.write(buffer) }
    }

    /// Ends the body (the terminating chunk); the writer is not usable afterwards.
    func finish() async throws {
        try await bounded { box in
            guard let w = box.writer else { return }
            box.writer = nil
            try await w.finish(nil)
        }
    }

    private func bounded(_ operation: @escaping @Sendable (BodyWriterBox) async throws -> Void) async throws {
        let seconds = stallTimeout
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await operation(self)
                return true
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return false
            }
            let done = try await group.next() ?? false
            group.cancelAll()
            if !done {
                try Task.checkCancellation()
                throw Stalled(seconds: seconds)
            }
        }
    }
}
