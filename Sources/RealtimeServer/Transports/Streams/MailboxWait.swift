/// What a bounded wait on a mailbox found.
enum MailboxWake<Element: Sendable>: Sendable {
    /// Everything that was queued (never empty).
    case items([Element])
    /// The deadline passed with nothing queued.
    case timeout
    /// The mailbox is finished or overflowed, or the waiting task was cancelled.
    case closed
}

extension Mailbox {
    /// `next()`, but no later than `deadline`. Nothing is lost to the race: whatever the
    /// mailbox handed over before it was told to stop waiting is returned.
    func next(until deadline: ContinuousClock.Instant) async -> MailboxWake<Element> {
        await withTaskGroup(of: Wake.self) { group in
            group.addTask { .mailbox(await self.next()) }
            group.addTask {
                try? await Task.sleep(until: deadline, clock: .continuous)
                return .timer
            }
            var items: [Element] = []
            var closed = false
            // The first to answer decides; the other is cancelled and its answer collected.
            let first = await group.next()
            group.cancelAll()
            if case .mailbox(let batch) = first {
                if let batch { items += batch } else { closed = true }
            }
            for await other in group {
                // A nil here may only mean "cancelled": the next call finds out if it is closed.
                if case .mailbox(let batch?) = other { items += batch }
            }
            if !items.isEmpty { return .items(items) }
            return closed ? .closed : .timeout
        }
    }

    private enum Wake: Sendable {
        case mailbox([Element]?)
        case timer
    }
}
