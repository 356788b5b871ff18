/// Durations as the command line writes them: `500ms`, `20s`, `5m`, `1h`, or a bare
/// number of seconds. Shared by every command so they all accept the same forms.
public enum DurationText {
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        public let text: String
        public var description: String {
            "'\(text)' is not a duration: write it like 500ms, 10s, 2m or 1h"
        }
    }

    /// Seconds for a duration text. Rejects negatives, NaN and anything over a week.
    public static func seconds(_ text: String) throws(ParseError) -> Double {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        var number = Substring(t)
        var scale = 1.0
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            number = t.dropLast(suffix.count)
            scale = factor
            break
        }
        guard !number.isEmpty, number.allSatisfy({ $0.isNumber || $0 == "." }),
            let value = Double(number), value.isFinite, value >= 0
        else { throw ParseError(text: text) }
        let seconds = value * scale
        guard seconds <= 7 * 24 * 3600 else { throw ParseError(text: text) }
        return seconds
    }

    /// Short human form: `850ms`, `12.5s`, `3m`, `1m30s`.
    public static func format(seconds: Double) -> String {
        if seconds < 1 { return "\(Int((seconds * 1000).rounded()))ms" }
        if seconds < 60 {
            let r = (seconds * 10).rounded() / 10
            return r == r.rounded() ? "\(Int(r))s" : "\(r)s"
        }
        let total = Int(seconds.rounded())
        if total < 3600 { return total % 60 == 0 ? "\(total / 60)m" : "\(total / 60)m\(total % 60)s" }
        return total % 3600 == 0 ? "\(total / 3600)h" : "\(total / 3600)h\((total % 3600) / 60)m"
    }
}

import Foundation
