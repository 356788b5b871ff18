/// The bookkeeping of the handshake log, pure: entries grouped by key (the probe
/// nonce), each kept `ttl` seconds, at most `perKey` per key (the newest), at most
/// `maxKeys` keys and `maxEntries` entries in all (the keys written longest ago go
/// first). The caller passes the time, so every rule is testable with plain values.
///
/// Amortised O(1) per write: keys are evicted from the front of a write-ordered queue
/// whose stale slots (keys written again later) are skipped and compacted away.
public struct HandshakeLogBook<Entry: Sendable>: Sendable {
    public let ttl: Double
    public let perKey: Int
    public let maxKeys: Int
    public let maxEntries: Int

    private struct Slot: Sendable {
        var entries: [(at: Double, entry: Entry)] = []
        var lastWrite: Double = 0
        var sequence: UInt64 = 0
    }

    private var slots: [String: Slot] = [:]
    /// Every write as (key, sequence), oldest first; a pair is stale when the key was written again.
    private var order: [(key: String, sequence: UInt64)] = []
    private var head = 0
    private var nextSequence: UInt64 = 0
    public private(set) var entryCount = 0

    public init(ttl: Double, perKey: Int, maxKeys: Int = 10_000, maxEntries: Int = 20_000) {
        self.ttl = max(0, ttl)
        self.perKey = max(1, perKey)
        self.maxKeys = max(1, maxKeys)
        self.maxEntries = max(1, maxEntries)
    }

    public var keyCount: Int { slots.count }

    /// Adds `entry` under `key` at time `now`.
    public mutating func record(_ entry: Entry, key: String, now: Double) {
        sweep(now: now)
        var slot = slots[key] ?? Slot()
        let before = slot.entries.count
        slot.entries.removeAll { now - $0.at >= ttl }
        slot.entries.append((now, entry))
        if slot.entries.count > perKey { slot.entries.removeFirst(slot.entries.count - perKey) }
        entryCount += slot.entries.count - before
        slot.lastWrite = now
        slot.sequence = nextSequence
        order.append((key, nextSequence))
        nextSequence += 1
        slots[key] = slot
        while slots.count > maxKeys || entryCount > maxEntries, evictOldest() {}
        compactIfNeeded()
    }

    /// The entries of `key` younger than `ttl`, oldest first.
    public func entries(key: String, now: Double) -> [Entry] {
        guard let slot = slots[key] else { return [] }
        return slot.entries.filter { now - $0.at < ttl }.map(\.entry)
    }

    /// Forgets every key whose last write is `ttl` old (all its entries are expired).
    public mutating func sweep(now: Double) {
        while head < order.count {
            let (key, sequence) = order[head]
            guard let slot = slots[key], slot.sequence == sequence else {
                head += 1
                continue
            }
            guard now - slot.lastWrite >= ttl else { break }
            remove(key)
            head += 1
        }
        compactIfNeeded()
    }

    /// Removes the key written longest ago; false when there is none.
    private mutating func evictOldest() -> Bool {
        while head < order.count {
            let (key, sequence) = order[head]
            head += 1
            if let slot = slots[key], slot.sequence == sequence {
                remove(key)
                return true
            }
        }
        return false
    }

    private mutating func remove(_ key: String) {
        if let slot = slots.removeValue(forKey: key) { entryCount -= slot.entries.count }
    }

    /// Keeps the queue within a small multiple of the live keys: rebuilt from the slots
    /// (in write order) when stale pairs dominate.
    private mutating func compactIfNeeded() {
        let live = order.count - head
        guard live > 2 * slots.count + 64 || (head > 1024 && head * 2 > order.count) else { return }
        order = slots.map { (key: $0.key, sequence: $0.value.sequence) }.sorted { $0.sequence < $1.sequence }
        head = 0
    }
}
