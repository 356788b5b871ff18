import Diagnosis
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Live progress of a diagnosis on stderr, so a person waiting on a slow stage (a
/// 10-second timeout, a 60-second idle hold) sees what is happening. Purely cosmetic:
/// stdout carries the report and stays clean for pipes, and when stderr is not a TTY
/// nothing at all is written (a CI log wants the report, not spinner frames).
///
/// Each stage shows a spinner line while it runs (`⠋ handshake…`), replaced in place by
/// its result when it ends (`✓ handshake  12.3 ms  101 Switching Protocols`); during the
/// idle hold the line counts down (`idle: holding silent connection… 43 s left, 2 server
/// pings`). Redraws use only `\r` and spaces, never cursor-control escapes.
///
/// Concurrency: `handle(_:)` is called from the probe's `@Sendable` progress closure, on
/// any thread. It only enqueues into an `AsyncStream`; one task owns all drawing state and
/// draws events in the order they were handled. No locks, and no event reordering (which
/// hopping onto an actor with a new `Task` per event would allow). Call `finish()` before
/// printing the report: it draws what is queued and clears the progress line.
final class ProgressDisplay: Sendable {
    private enum Input: Sendable {
        case progress(ProbeProgress)
        case frame
    }

    private let continuation: AsyncStream<Input>.Continuation?
    private let drawer: Task<Void, Never>?
    private let ticker: Task<Void, Never>?

    /// How often the spinner turns while a stage runs.
    private static let frameInterval: Duration = .milliseconds(100)

    /// - Parameters:
    ///   - enabled: draw at all; by default, whether stderr is a TTY.
    ///   - color: colour the status symbols; by default, `TerminalStyle`'s rule for stderr.
    ///   - columns: line width; lines are cut to fit, since a wrapped line cannot be
    ///     redrawn in place.
    ///   - write: where the text goes (tests capture it); by default stderr.
    init(enabled: Bool = TerminalStyle.isInteractive(STDERR_FILENO),
         color: Bool = TerminalStyle.colorEnabled(fileDescriptor: STDERR_FILENO),
         columns: Int = TerminalStyle.columns(STDERR_FILENO),
         write: @escaping @Sendable (String) -> Void = ProgressDisplay.writeToStandardError) {
        guard enabled else {
            continuation = nil
            drawer = nil
            ticker = nil
            return
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Input.self, bufferingPolicy: .unbounded)
        self.continuation = continuation
        drawer = Task {
            var canvas = Canvas(color: color, columns: columns)
            for await input in stream {
                switch input {
                case .progress(let event): write(canvas.apply(event))
                case .frame: write(canvas.nextFrame())
                }
            }
            write(canvas.clear())
        }
        ticker = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: Self.frameInterval)
                continuation.yield(.frame)
            }
        }
    }

    /// Queues one event for drawing. Safe from any thread; returns at once.
    func handle(_ event: ProbeProgress) {
        continuation?.yield(.progress(event))
    }

    /// Draws what is still queued, then clears the progress line, so the report printed
    /// next starts on a clean line. Events handled afterwards are ignored. Idempotent.
    func finish() async {
        ticker?.cancel()
        continuation?.finish()
        await drawer?.value
    }

    /// `write(2)` to stderr, retried until everything is out. Errors are ignored: losing a
    /// progress line must never fail the diagnosis.
    @Sendable static func writeToStandardError(_ text: String) {
        guard !text.isEmpty else { return }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written < 0, errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}

/// The drawing state, owned by the display's one drawing task. Each method returns the
/// text to write (possibly empty).
private struct Canvas {
    let color: Bool
    let columns: Int
    /// The line being redrawn in place (without its spinner), if any.
    private var transient: String?
    /// Visible width of what is on the current line, to blank it out on redraw.
    private var drawnWidth = 0
    private var frame = 0

    private static let spinner = Array("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

    init(color: Bool, columns: Int) {
        self.color = color
        self.columns = max(20, columns)
    }

    mutating func apply(_ event: ProbeProgress) -> String {
        switch event {
        case .stageStarted(let stage, let detail):
            transient = Self.joined(stage.rawValue + "…", detail)
            return redraw()
        case .stageFinished(let stage, let ok, let durationMs, let detail):
            let duration = durationMs < 1000
                ? String(format: "%.1f ms", durationMs) : String(format: "%.2f s", durationMs / 1000)
            return commit(symbol: ok ? "✓" : "✗", tint: ok ? "32" : "31",
                          Self.joined(stage.rawValue, duration, detail))
        case .stageSkipped(let stage):
            return commit(symbol: "–", tint: "2", "\(stage.rawValue) skipped")
        case .idleTick(let elapsed, let total, let pings):
            let left = max(0, Int((total - elapsed).rounded(.up)))
            let pingText = pings == 1 ? "1 server ping" : "\(pings) server pings"
            transient = "idle: holding silent connection… \(left) s left, \(pingText)"
            return redraw()
        }
    }

    mutating func nextFrame() -> String {
        guard transient != nil else { return "" }
        frame = (frame + 1) % Self.spinner.count
        return redraw()
    }

    /// Blanks the current line and leaves the cursor at its start.
    mutating func clear() -> String {
        transient = nil
        guard drawnWidth > 0 else { return "" }
        defer { drawnWidth = 0 }
        return "\r" + String(repeating: " ", count: drawnWidth) + "\r"
    }

    private mutating func redraw() -> String {
        guard let transient else { return "" }
        return draw(symbol: String(Self.spinner[frame]), tint: nil, transient, newline: false)
    }

    /// Replaces the current line with a finished one, kept on screen.
    private mutating func commit(symbol: String, tint: String?, _ text: String) -> String {
        transient = nil
        return draw(symbol: symbol, tint: tint, text, newline: true)
    }

    private mutating func draw(symbol: String, tint: String?, _ text: String, newline: Bool) -> String {
        // One column spare: writing into the last column makes some terminals wrap.
        var visible = Self.sanitized(text)
        let room = columns - 1 - 2
        if visible.count > room { visible = String(visible.prefix(room - 1)) + "…" }
        let width = 2 + visible.count
        var shownSymbol = symbol
        if color, let tint { shownSymbol = "\u{1B}[\(tint)m\(symbol)\u{1B}[0m" }
        let padding = String(repeating: " ", count: max(0, drawnWidth - width))
        drawnWidth = newline ? 0 : width
        return "\r" + shownSymbol + " " + visible + padding + (newline ? "\n" : "")
    }

    private static func joined(_ parts: String...) -> String {
        parts.filter { !$0.isEmpty }.joined(separator: "  ")
    }

    /// Details can come from the network: no control character reaches the terminal.
    private static func sanitized(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map {
            $0.value < 0x20 || (0x7F..<0xA0).contains($0.value) ? " " : $0
        }))
    }
}
