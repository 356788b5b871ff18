import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What the terminal on a stream can take: colour, live redraws, how wide a line is.
/// Decided once per stream from facts (is it a TTY, the environment) so that a pipe, a CI
/// log or a file never receives escape sequences or half-drawn progress lines.
enum TerminalStyle {
    /// Colour on `fd` only when it is a TTY, `NO_COLOR` is absent or empty (no-color.org:
    /// present and non-empty disables), and `TERM` is not `dumb`.
    static func colorEnabled(fileDescriptor fd: Int32,
                             environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        colorEnabled(isTTY: isatty(fd) == 1, environment: environment)
    }

    /// The decision itself, without the system call, so it can be checked with values.
    static func colorEnabled(isTTY: Bool, environment: [String: String]) -> Bool {
        guard isTTY else { return false }
        if let noColor = environment["NO_COLOR"], !noColor.isEmpty { return false }
        return environment["TERM"] != "dumb"
    }

    /// A person is watching `fd`: live progress is worth drawing there. (Progress redraws
    /// with `\r` and spaces only, which even a `dumb` terminal understands, so `TERM`
    /// does not matter here.)
    static func isInteractive(_ fd: Int32) -> Bool {
        isatty(fd) == 1
    }

    /// Columns of the terminal on `fd`: the kernel's window size, else `COLUMNS`, else 80.
    /// Lines longer than this would wrap and break in-place redraws and the report layout.
    static func columns(_ fd: Int32, environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        var size = winsize()
        if ioctl(fd, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return Int(size.ws_col) }
        if let text = environment["COLUMNS"], let n = Int(text), n > 0 { return n }
        return 80
    }
}
