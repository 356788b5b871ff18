/// The report as GitHub-flavoured Markdown, for pasting into a support ticket or an
/// issue: a heading naming the problem, the stages as a table, the cause with its
/// evidence and fixes, findings, and the raw handshake transcript — the part support
/// staff most want and a terminal summary leaves out.
///
/// Text from the network is untrusted and must not change the document's structure:
/// `|` is escaped in table cells, inline Markdown and HTML characters are escaped in
/// prose (complete code spans are kept: their content is literal anyway), and code fences are made longer than any backtick run inside them. Control
/// characters are replaced with `�`.
///
/// The report is passed through `Redactor.structural` first, as a last line of defence.
public enum MarkdownReportRenderer {
    /// The Markdown document, ending with a newline.
    public static func render(_ report: Report) -> String {
        let report = Redactor.structural.redact(report: report)
        let cause = report.cause
        var out: [String] = []
        out.append("## wsdoctor diagnosis: " + inline(oneLine(cause.title)))
        out.append("")
        out.append("**Target:** " + code(report.target.url) + "  ")
        out.append("**Outcome:** \(report.outcome.rawValue) — cause " + code(cause.id)
            + " (confidence: \(cause.confidence.rawValue))  ")
        out.append("**Duration:** " + TextReportRenderer.duration(report.durationMs))
        out.append("")
        out.append(inline(cause.summary))

        out.append("")
        out.append("### Stages")
        out.append("")
        out.append("| stage | status | time | summary |")
        out.append("|---|---|---:|---|")
        for stage in report.stages {
            let time = stage.status == .skipped ? "–" : TextReportRenderer.duration(stage.durationMs)
            let status = TextReportRenderer.symbol(of: stage.status) + " " + stage.status.rawValue
            out.append("| " + [cell(stage.name), status, time, cell(stage.summary)].joined(separator: " | ") + " |")
        }

        if !cause.evidence.isEmpty {
            out.append("")
            out.append("### Evidence")
            out.append("")
            out += cause.evidence.map { listItem("- ", $0) }
        }
        if !cause.fixes.isEmpty {
            out.append("")
            out.append(cause.id == CauseID.healthy.rawValue ? "### Next steps" : "### How to fix")
            out.append("")
            out += cause.fixes.enumerated().map { i, fix in listItem("\(i + 1). ", fix) }
        }
        if !report.findings.isEmpty {
            out.append("")
            out.append("### Findings")
            out.append("")
            out += report.findings.map { f in
                listItem("- ", "**\(f.severity.rawValue)** (\(inline(f.stage))) " + code(f.id) + ": " + inline(f.message),
                         escaped: true)
            }
        }

        out.append("")
        out.append("### Close")
        out.append("")
        out.append(closeText(report.close))

        if report.transcript.request != nil || report.transcript.response != nil {
            out.append("")
            out.append("### Handshake transcript")
            for (label, text) in [("Request", report.transcript.request), ("Response", report.transcript.response)] {
                guard let text else { continue }
                out.append("")
                out.append("\(label):")
                out.append("")
                out += fenced(text, language: "http")
            }
        }

        out.append("")
        out.append("---")
        out.append("")
        out.append("_" + inline("\(report.tool.name) \(report.tool.version)") + " · " + inline(report.schema)
            + " · started " + inline(report.startedAt) + "_")
        return out.joined(separator: "\n") + "\n"
    }

    private static func closeText(_ close: Report.Close) -> String {
        if close.code == nil, close.initiatedBy == "none" {
            return "No WebSocket connection was closed during the check."
        }
        var parts = [close.code.map { "code \($0)" } ?? "no close code"]
        if !close.reason.isEmpty { parts.append("reason " + code(close.reason)) }
        parts.append("initiated by " + inline(close.initiatedBy))
        parts.append(close.clean ? "clean" : "not clean")
        return parts.joined(separator: ", ")
    }

    // MARK: - Escaping

    /// Characters that would start emphasis, links, HTML or a table cell, escaped with a
    /// backslash (which GFM renders as the bare character). Complete code spans are kept
    /// as they are: the catalogue writes fixes with them (`` `proxy_read_timeout` ``), and
    /// a code span's content is literal, so it cannot inject anything. An unmatched
    /// backtick is escaped. In a table cell `|` is escaped inside code spans too, since
    /// GFM splits cells before it reads spans.
    static func inline(_ text: String, inTable: Bool = false) -> String {
        let s = Array(sanitized(text).unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        while i < s.count {
            if s[i] == "`" {
                var run = 0
                while i + run < s.count, s[i + run] == "`" { run += 1 }
                if let close = closingRun(of: run, in: s, from: i + run) {
                    for scalar in s[i..<(close + run)] {
                        if inTable, scalar == "|" { out.append("\\") }
                        out.append(scalar)
                    }
                    i = close + run
                } else {
                    for _ in 0..<run { out.append(contentsOf: "\\`".unicodeScalars) }
                    i += run
                }
                continue
            }
            if "\\*_[]<>|".unicodeScalars.contains(s[i]) { out.append("\\") }
            out.append(s[i])
            i += 1
        }
        return String(out)
    }

    /// Where a run of exactly `length` backticks starts at or after `start` (CommonMark's
    /// rule for closing a code span), if anywhere.
    private static func closingRun(of length: Int, in s: [Unicode.Scalar], from start: Int) -> Int? {
        var i = start
        while i < s.count {
            guard s[i] == "`" else { i += 1; continue }
            var run = 0
            while i + run < s.count, s[i + run] == "`" { run += 1 }
            if run == length { return i }
            i += run
        }
        return nil
    }

    /// A table cell: one line (a line break would end the row), with `|` escaped.
    static func cell(_ text: String) -> String { inline(oneLine(text), inTable: true) }

    private static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }).joined(separator: " ")
    }

    /// A list item whose continuation lines are indented under it, so a multi-line
    /// evidence string stays one item.
    private static func listItem(_ bullet: String, _ text: String, escaped: Bool = false) -> String {
        let body = escaped ? text : inline(text)
        let indent = String(repeating: " ", count: bullet.count)
        return bullet + body.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + indent)
    }

    /// An inline code span delimited by more backticks than the longest run inside it
    /// (CommonMark's rule), padded when the content touches a backtick. (Not for table
    /// cells: there a `|` would still end the cell; cells use `cell(_:)`.)
    static func code(_ text: String) -> String {
        let content = oneLine(sanitized(text))
        let fence = String(repeating: "`", count: longestBacktickRun(content) + 1)
        let pad = content.hasPrefix("`") || content.hasSuffix("`") || content.isEmpty ? " " : ""
        return fence + pad + content + pad + fence
    }

    /// A fenced code block whose fence is longer than any backtick run in the text, so
    /// the text cannot close it early. `\r\n` becomes `\n`: a transcript is shown, not
    /// replayed.
    static func fenced(_ text: String, language: String) -> [String] {
        var body = sanitized(text)
        while body.hasSuffix("\n") { body.removeLast() }
        let fence = String(repeating: "`", count: max(3, longestBacktickRun(body) + 1))
        return [fence + language] + body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            + [fence]
    }

    static func longestBacktickRun(_ text: String) -> Int {
        var longest = 0
        var run = 0
        for c in text.unicodeScalars {
            run = c == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        return longest
    }

    /// Control characters replaced with `�` (newlines and tabs kept, carriage returns
    /// dropped), so a hostile server's bytes cannot drive the terminal the Markdown is
    /// printed on.
    private static func sanitized(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x09: out.append(scalar)
            case 0x0D: continue
            case 0x00..<0x20, 0x7F..<0xA0: out.append("\u{FFFD}")
            default: out.append(scalar)
            }
        }
        return String(out)
    }
}
