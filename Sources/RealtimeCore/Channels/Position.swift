/// A channel's epoch: a random token chosen when the channel is first used and kept
/// until its history is lost. A new epoch voids every earlier offset.
public struct Epoch: Hashable, Sendable, CustomStringConvertible {
    public let value: String
    public var description: String { value }

    /// Epoch tokens are short lowercase hex so positions stay readable (`e8c1a90f:17`).
    public init?(_ text: some StringProtocol) {
        guard (1...32).contains(text.utf8.count), text.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) })
        else { return nil }
        value = String(text)
    }

    public static func random<G: RandomNumberGenerator>(using generator: inout G) -> Epoch {
        let hex = Array("0123456789abcdef")
        return Epoch(String((0..<8).map { _ in hex[Int(generator.next() % 16)] }))!
    }

    public static func random() -> Epoch {
        var g = SystemRandomNumberGenerator()
        return random(using: &g)
    }
}

/// A position in a channel, written `EPOCH:OFFSET`.
public struct Position: Hashable, Sendable, CustomStringConvertible {
    public let epoch: Epoch
    public let offset: UInt64

    public init(epoch: Epoch, offset: UInt64) {
        self.epoch = epoch
        self.offset = offset
    }

    public var description: String { "\(epoch.value):\(offset)" }

    /// Parses `EPOCH:OFFSET`; nil for anything else.
    public init?(_ text: some StringProtocol) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let epoch = Epoch(parts[0]), parts[1].utf8.count <= 19,
              parts[1].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let offset = UInt64(parts[1])
        else { return nil }
        self.init(epoch: epoch, offset: offset)
    }
}
