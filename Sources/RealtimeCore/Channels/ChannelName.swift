/// A channel name as the realtime protocol allows it: 1 to 128 characters of
/// `A-Z a-z 0-9 _ - : .` (`@` is reserved as the subscription separator).
public struct ChannelName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let value: String
    public var description: String { value }

    public static let maxLength = 128

    public init?(_ text: some StringProtocol) {
        guard Self.isValid(text) else { return nil }
        value = String(text)
    }

    public static func isValid(_ text: some StringProtocol) -> Bool {
        let count = text.utf8.count
        guard count >= 1, count <= maxLength else { return false }
        return text.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == 0x5F || b == 0x2D || b == 0x3A || b == 0x2E
        }
    }

    public static func < (lhs: ChannelName, rhs: ChannelName) -> Bool { lhs.value < rhs.value }
}
