import Foundation

/// The report for a person at a terminal: what was checked, stage by stage, then what is
/// wrong and how to fix it. Raw transcripts are left to the JSON and Markdown formats
/// (they are long, and people paste those into tickets); a stage's summary already
/// carries the line that matters, such as the handshake's status line.
///
/// ANSI colour is used only when `color` is true (the caller decides, from the TTY and
/// `NO_COLOR`); the status symbols (✓ ✗ ! –) are printed either way, so the meaning never
/// depends on colour. Prose is wrapped to `width` columns. Strings from the network (a
/// server's status line, a close reason) could carry terminal escape sequences, so
/// control characters are shown as `�` rather than sent to the terminal.
///
/// The report is passed through `Redactor.structural` first, as a last line of defence.
public struct TextReportRenderer: Sendable {
    public var color: Bool
    public var width: Int

    /// `width` below 40 is raised to 40: narrower than that, wrapping costs more
    /// readability than it saves.
    public init(color: Bool, width: Int = 100) {
        self.color = color
        self.width = max(40, width)
    }

    /// The text report, ending with a newline.
    public func render(_ report: Report) -> String {
        let report = Redactor.structural.redact(report: report)
        var lines: [String] = []
        lines.append(header(report))
        lines.append("")
        lines += stages(report.stages)
        lines.append("")
        lines += cause(report.cause)
        if !report.findings.isEmpty {
            lines.append("")
            lines += findings(report.findings)
        }
        lines.append("")
        lines += wrap(closeLine(report.close), indent: "", hanging: "  ")
        let footer = "\(Self.duration(report.durationMs)) in all · started \(clean(report.startedAt)) · "
            + "\(clean(report.tool.name)) \(clean(report.tool.version))"
        lines += wrap(footer, indent: "", hanging: "").map { style(.dim, $0) }
        return lines.joined(separator: "\n") + "\n"
    }

    // MARK: - Sections

    private func header(_ report: Report) -> String {
        let outcome: String
        switch report.outcome {
        case .healthy: outcome = style(.green, "healthy")
        case .degraded: outcome = style(.yellow, "degraded")
        case .failed: outcome = style(.red, "failed")
        }
        return style(.bold, "wsdoctor") + " · " + clean(report.target.url) + " · " + style(.bold, outcome)
    }

    /// `  ✓ resolve    summary …            1.9 ms`: name in a fixed column, timing
    /// right-aligned at the edge, summary wrapped in between.
    private func stages(_ stages: [Report.Stage]) -> [String] {
        let nameWidth = max(9, stages.map(\.name.count).max() ?? 0)
        let timings = stages.map { $0.status == .skipped ? "" : Self.duration($0.durationMs) }
        let timingWidth = max(6, timings.map(\.count).max() ?? 0)
        let prefixWidth = 2 + 1 + 1 + nameWidth + 2
        let summaryWidth = max(10, width - prefixWidth - 2 - timingWidth)
        var out: [String] = []
        for (stage, timing) in zip(stages, timings) {
            let summary = stage.summary.isEmpty && stage.status == .skipped ? "skipped" : clean(stage.summary)
            let wrapped = Self.wrapWords(summary, width: summaryWidth)
            // A skipped line is dimmed whole; colouring its symbol separately would reset the dim.
            let skipped = stage.status == .skipped
            let symbol = skipped ? Self.symbol(of: stage.status) : style(Self.color(of: stage.status), Self.symbol(of: stage.status))
            let name = Self.pad(clean(stage.name), nameWidth)
            for (i, part) in wrapped.enumerated() {
                var line: String
                if i == 0 {
                    let gap = String(repeating: " ", count: max(2, summaryWidth - part.count + 2 + timingWidth - timing.count))
                    line = "  \(symbol) \(name)  " + part + (timing.isEmpty ? "" : gap + timing)
                } else {
                    line = String(repeating: " ", count: prefixWidth) + part
                }
                line = line.trimmingTrailingSpaces()
                out.append(skipped ? style(.dim, line) : line)
            }
        }
        return out
    }

    private func cause(_ cause: Report.Cause) -> [String] {
        let healthy = cause.id == CauseID.healthy.rawValue
        let symbol = healthy ? style(.green, "✓") : style(.red, "✗")
        var out = wrap(clean(cause.title), indent: "", hanging: "  ").enumerated().map { i, line in
            i == 0 ? symbol + " " + style(.bold, line) : style(.bold, line)
        }
        out += wrap(clean(cause.summary), indent: "  ", hanging: "  ")
        out.append(style(.dim, "  Confidence: \(cause.confidence.rawValue) · cause: \(clean(cause.id))"))
        if !cause.evidence.isEmpty {
            out.append("")
            out.append("  " + style(.bold, "Evidence:"))
            for item in cause.evidence { out += wrap(clean(item), indent: "    • ", hanging: "      ") }
        }
        if !cause.fixes.isEmpty {
            out.append("")
            out.append("  " + style(.bold, cause.id == CauseID.healthy.rawValue ? "Next steps:" : "How to fix:"))
            let numberWidth = String(cause.fixes.count).count
            for (i, fix) in cause.fixes.enumerated() {
                let number = Self.pad(String(i + 1) + ".", numberWidth + 1)
                out += wrap(clean(fix), indent: "    \(number) ", hanging: String(repeating: " ", count: 4 + numberWidth + 2))
            }
        }
        return out
    }

    /// Errors first, then warnings, then information: the order of what needs attention.
    private func findings(_ findings: [Report.Finding]) -> [String] {
        var out = [style(.bold, "Findings:")]
        let ordered = [Report.Finding.Severity.error, .warning, .info].flatMap { severity in
            findings.filter { $0.severity == severity }
        }
        for f in ordered {
            let (symbol, tint): (String, Tint) = switch f.severity {
            case .error: ("✗", .red)
            case .warning: ("!", .yellow)
            case .info: ("i", .dim)
            }
            let lines = wrap("\(clean(f.stage)): \(clean(f.message))", indent: "  \(symbol) ", hanging: "    ")
            out += lines.enumerated().map { i, line in
                i == 0 ? "  " + style(tint, symbol) + String(line.dropFirst(3)) : line
            }
        }
        return out
    }

    private func closeLine(_ close: Report.Close) -> String {
        if close.code == nil, close.initiatedBy == "none" {
            return "Close: none (no WebSocket connection was closed during the check)"
        }
        var parts: [String] = []
        parts.append(close.code.map { "code \($0)" } ?? "no close code")
        if !close.reason.isEmpty { parts.append("reason \"\(clean(close.reason))\"") }
        parts.append("initiated by \(clean(close.initiatedBy))")
        parts.append(close.clean ? "clean" : "not clean")
        return "Close: " + parts.joined(separator: ", ")
    }

    // MARK: - Styling

    enum Tint: String {
        case green = "32", red = "31", yellow = "33", dim = "2", bold = "1"
    }

    private func style(_ tint: Tint, _ text: String) -> String {
        color && !text.isEmpty ? "\u{1B}[\(tint.rawValue)m\(text)\u{1B}[0m" : text
    }

    static func symbol(of status: Report.Stage.Status) -> String {
        switch status {
        case .passed: "✓"
        case .failed: "✗"
        case .warning: "!"
        case .skipped: "–"
        }
    }

    private static func color(of status: Report.Stage.Status) -> Tint {
        switch status {
        case .passed: .green
        case .failed: .red
        case .warning: .yellow
        case .skipped: .dim
        }
    }

    // MARK: - Text helpers

    /// `12.3 ms` below a second, `1.25 s` above: an idle hold of a minute reads as
    /// `60.00 s`, not `60000.0 ms`.
    static func duration(_ ms: Double) -> String {
        guard ms.isFinite else { return "–" }
        // Rounded like the JSON's milliseconds first, so both formats show the same figure.
        let ms = (ms * 10).rounded() / 10
        return ms < 1000 ? String(format: "%.1f ms", ms) : String(format: "%.2f s", ms / 1000)
    }

    /// Control characters (other than newline and tab, which wrapping handles) replaced,
    /// so nothing a server sent can move the cursor or recolour the terminal.
    private func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A: out.append(scalar)
            case 0x09: out.append(" ")
            case 0x00..<0x20, 0x7F..<0xA0: out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }

    private func wrap(_ text: String, indent: String, hanging: String) -> [String] {
        let available = max(10, width - indent.count)
        return Self.wrapWords(text, width: available).enumerated().map { i, line in
            ((i == 0 ? indent : hanging) + line).trimmingTrailingSpaces()
        }
    }

    /// Greedy word wrap; paragraphs (`\n`) are kept. A word longer than the line (a URL)
    /// is left whole on its own line: broken, it could no longer be copied.
    static func wrapWords(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        for paragraph in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = ""
            for word in paragraph.split(separator: " ") {
                if line.isEmpty {
                    line = String(word)
                } else if line.count + 1 + word.count <= width {
                    line += " " + word
                } else {
                    lines.append(line)
                    line = String(word)
                }
            }
            lines.append(line)
        }
        return lines.isEmpty ? [""] : lines
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}
