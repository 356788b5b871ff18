import ArgumentParser
import Diagnosis
import Foundation

/// `wsdoctor explain CODE`: the meaning of a close code, an HTTP status seen on the upgrade,
/// or a cause id from a report, with causes and fixes. Offline and instant, for the moment
/// someone stares at `code: 1006` in a console and wants to know what to do.
struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "Explain a close code, an HTTP status from the upgrade, or a cause id.",
        discussion: """
            Give it the number or id you are staring at; it says what it means, who sends it, \
            what usually causes it and how to fix it. No network access.

              wsdoctor explain 1006          close code (CloseEvent.code, 1000-4999)
              wsdoctor explain 426           HTTP status answered to the upgrade (100-599)
              wsdoctor explain idle-timeout  cause id from a `wsdoctor diagnose` report
              wsdoctor explain --list        all of them, one line each

            Seeing 1006? It never appears on the wire: the connection simply died. \
            Run `wsdoctor diagnose URL --idle 120s` to find out who cut it.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Argument(help: ArgumentHelp(
        "A close code (1006), an HTTP status (426) or a cause id (idle-timeout).", valueName: "code"))
    var subject: String?

    @Flag(name: .long, help: "List every close code, upgrade status and cause id with a one-line meaning.")
    var list = false

    @Option(name: .long, help: "Output format: text for people, json for scripts.")
    var format: Format = .text

    func validate() throws {
        if list, subject != nil {
            throw ValidationError("Give either a code/status/cause id or --list, not both.")
        }
        if !list, subject == nil {
            throw ValidationError(
                "Missing CODE: give a close code (1006), an HTTP status (426) or a cause id (idle-timeout), or use --list.")
        }
    }

    func run() async throws {
        if list {
            emit(format == .json ? ExplainJSON.list() : ExplainText.list())
            return
        }
        let input = subject ?? ""
        switch Subject.parse(input) {
        case .closeCode(let info):
            emit(format == .json ? ExplainJSON.closeCode(info) : ExplainText.closeCode(info))
        case .status(let info):
            emit(format == .json ? ExplainJSON.status(info) : ExplainText.status(info))
        case .cause(let id):
            emit(format == .json ? ExplainJSON.cause(id) : ExplainText.cause(id))
        case .unknown(let problem):
            // A usage error: one line on stderr and exit 64 (see `WSDoctor.main`).
            throw ValidationError(problem)
        }
    }

    private func emit(_ text: String) {
        print(text)
    }
}

/// What the user asked about, decided from the text alone.
private enum Subject {
    case closeCode(CloseCodeInfo)
    case status(UpgradeStatusInfo)
    case cause(CauseID)
    /// One line naming the problem with the input.
    case unknown(String)

    /// Numbers 100–599 are HTTP statuses (no close code is below 1000); other numbers up to
    /// 65535 are close codes, invalid ones included, since that is what a close frame can
    /// carry; anything else must be a cause id.
    static func parse(_ raw: String) -> Subject {
        let text = raw.trimmingCharacters(in: .whitespaces)
        if !text.isEmpty, text.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }) {
            let number = text.count <= 6 ? Int(text) : nil
            if let number, (100...599).contains(number) { return .status(UpgradeStatuses.describe(number)) }
            if let number, let info = CloseCodes.info(number) { return .closeCode(info) }
            return .unknown(
                "\(quoted(text)) is neither a close code (0-65535 fit in a close frame; valid ones are 1000-4999) "
                    + "nor an HTTP status (100-599); see `wsdoctor explain --list`")
        }
        if let id = CauseID(rawValue: text.lowercased()) { return .cause(id) }
        return .unknown(
            "\(quoted(text)) is not a close code (1000-4999), an HTTP status (100-599) or a cause id such as idle-timeout; "
                + "see `wsdoctor explain --list`")
    }

    /// The input echoed safely: printable, bounded.
    private static func quoted(_ s: String) -> String {
        let printable = String(s.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F })
        return "'" + (printable.count > 40 ? String(printable.prefix(40)) + "…" : printable) + "'"
    }
}

// MARK: - Text

/// Plain text for a terminal: a heading, then short titled sections, wrapped to 80 columns.
private enum ExplainText {
    static let width = 80

    static func closeCode(_ info: CloseCodeInfo) -> String {
        var out: [String] = []
        out.append("Close code \(info.code): \(info.name)")
        if info.isRange {
            out.append("(one of the codes \(info.range.lowerBound)-\(info.range.upperBound))")
        }
        out.append("")
        if [1005, 1006, 1015].contains(info.code) {
            out += paragraph("Note", localOnlyNote(info.code))
        }
        out += paragraph("Meaning", info.meaning)
        out += paragraph("Sent by", info.sentBy)
        out += paragraph(
            "Valid in a close frame",
            CloseCodes.isValidOnWire(info.code)
                ? "yes" : "no: a close frame carrying it breaks RFC 6455 (receivers fail the connection with 1002)")
        out += bullets("Typical causes", info.causes)
        out += bullets("Fixes", info.fixes)
        return trimmed(out)
    }

    static func localOnlyNote(_ code: Int) -> String {
        switch code {
        case 1006:
            return "1006 never appears on the wire. Your WebSocket library reports it when the TCP connection ended "
                + "without a close frame: a proxy or load balancer cut an idle connection, the server crashed or restarted, "
                + "the network dropped, or (in browsers) the handshake itself failed, e.g. on a TLS error. "
                + "Run `wsdoctor diagnose URL --idle 120s` to see which."
        case 1005:
            return "1005 never appears on the wire. Your WebSocket library reports it when the peer's close frame "
                + "carried no status code at all."
        default:
            return "1015 never appears on the wire. Your WebSocket library reports it when the TLS handshake failed, "
                + "so no WebSocket connection ever existed. Run `wsdoctor diagnose wss://HOST/PATH` to see the certificate problem."
        }
    }

    static func status(_ info: UpgradeStatusInfo) -> String {
        var out: [String] = ["HTTP \(info.status) \(info.name) (answer to a WebSocket upgrade request)", ""]
        out += paragraph("Meaning", info.meaning)
        out += paragraph("Sent by", info.sentBy)
        out += bullets("Typical causes", info.causes)
        out += bullets("Fixes", info.fixes)
        if let id = info.causeID {
            out += paragraph(
                "Diagnosis", "`wsdoctor diagnose` names this \(id.rawValue) (see `wsdoctor explain \(id.rawValue)`).")
        }
        return trimmed(out)
    }

    static func cause(_ id: CauseID) -> String {
        let entry = CauseCatalogue.entry(id)
        var out: [String] = ["Cause \(id.rawValue): \(entry.title)", ""]
        out += paragraph("Meaning", entry.summary)
        let statuses = UpgradeStatuses.all.filter { $0.causeID == id }.map { "\($0.status) \($0.name)" }
        var seenAs = statuses.map { "HTTP \($0) on the upgrade" }
        if id == .abnormalClosure || id == .idleTimeout { seenAs.append("close code 1006 in browsers (`wsdoctor explain 1006`)") }
        if id == .closedByServer { seenAs.append("any close code the server sends (`wsdoctor explain CODE`)") }
        if !seenAs.isEmpty { out += bullets("Seen as", seenAs) }
        out += bullets("Fixes", entry.fixes)
        if id == .idleTimeout {
            let rows = PlatformIdleTimeouts.all.map { timeout in
                let ping = PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: timeout.defaultSeconds)
                let advice = timeout.resetsOnTraffic
                    ? "ping every \(Int(ping)) s or less" : "caps the whole connection; pings do not help"
                return "\(timeout.name): \(Int(timeout.defaultSeconds)) s; \(advice). Change: \(timeout.setting)"
            }
            out += bullets("Known defaults", rows)
        }
        if !id.requiredDataKeys.isEmpty {
            out += paragraph("Report data", "cause.data carries " + id.requiredDataKeys.map { "`\($0)`" }.joined(separator: ", ") + ".")
        }
        return trimmed(out)
    }

    static func list() -> String {
        var out: [String] = ["Close codes (CloseEvent.code in browsers)"]
        let codes = CloseCodes.all.map { info in
            (info.isRange ? "\(info.range.lowerBound)-\(info.range.upperBound)" : "\(info.code)",
             (info.onWire ? "" : "[not on wire] ") + info.name + ": " + firstSentence(info.meaning))
        }
        out += table(codes)
        out.append("")
        out.append("HTTP statuses answered to an upgrade request")
        out += table(UpgradeStatuses.all.map { ("\($0.status)", "\($0.name): " + firstSentence($0.meaning)) })
        out.append("")
        out.append("Cause ids named by `wsdoctor diagnose`")
        out += table(CauseID.allCases.map { ($0.rawValue, CauseCatalogue.entry($0).title) })
        out.append("")
        out.append("Details: wsdoctor explain CODE|STATUS|CAUSE-ID")
        return out.joined(separator: "\n")
    }

    // MARK: Layout

    private static func paragraph(_ title: String, _ text: String) -> [String] {
        [title] + wrap(text, indent: "  ") + [""]
    }

    private static func bullets(_ title: String, _ items: [String]) -> [String] {
        guard !items.isEmpty else { return [] }
        var out = [title]
        for item in items {
            let lines = wrap(item, indent: "    ")
            for (i, line) in lines.enumerated() {
                out.append(i == 0 ? "  - " + line.dropFirst(4) : line)
            }
        }
        out.append("")
        return out
    }

    private static func table(_ rows: [(String, String)]) -> [String] {
        let keyWidth = min(rows.map(\.0.count).max() ?? 0, 30)
        return rows.map { key, text in
            let padded = key.padding(toLength: max(keyWidth, key.count), withPad: " ", startingAt: 0)
            return "  " + padded + "  " + text
        }
    }

    /// Greedy word wrap. A `code span` is never broken, so a command can be copied from one
    /// line, nor is a number from its unit ("60 s"); words or spans longer than a line stay whole.
    private static func wrap(_ text: String, indent: String) -> [String] {
        var words: [String] = []
        var insideCode = false
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            let isUnit = ["s", "s,", "s.", "s)", "s;", "ms", "min"].contains(word)
                && words.last?.last?.isNumber == true
            if insideCode || isUnit, let last = words.popLast() {
                words.append(last + " " + word)
            } else {
                words.append(String(word))
            }
            if word.filter({ $0 == "`" }).count % 2 == 1 { insideCode.toggle() }
        }
        var lines: [String] = []
        var line = indent
        for word in words {
            if line.count > indent.count, line.count + 1 + word.count > width {
                lines.append(line)
                line = indent
            }
            line += (line.count > indent.count ? " " : "") + word
        }
        if line.count > indent.count { lines.append(line) }
        return lines
    }

    private static func trimmed(_ lines: [String]) -> String {
        var lines = lines
        while lines.last == "" { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// The first sentence: up to ". " followed by a capital letter (so "e.g. binary" does not end it).
    static func firstSentence(_ text: String) -> String {
        var search = text.startIndex
        while let dot = text.range(of: ". ", range: search..<text.endIndex) {
            if let next = text[dot.upperBound...].first, next.isUppercase {
                return String(text[..<dot.lowerBound]) + "."
            }
            search = dot.upperBound
        }
        return text
    }
}

// MARK: - JSON

/// Machine-readable output: one object per answer, `kind` says which.
private enum ExplainJSON {
    static func closeCode(_ info: CloseCodeInfo) -> String {
        render(.object(closeCodeFields(info) + [
            ("validOnWire", .bool(CloseCodes.isValidOnWire(info.code))),
            ("causes", .strings(info.causes)),
            ("fixes", .strings(info.fixes)),
        ]))
    }

    static func status(_ info: UpgradeStatusInfo) -> String {
        render(.object(statusFields(info) + [
            ("causes", .strings(info.causes)),
            ("fixes", .strings(info.fixes)),
        ]))
    }

    static func cause(_ id: CauseID) -> String {
        let entry = CauseCatalogue.entry(id)
        var fields: [(String, JSONValue)] = [
            ("kind", "cause"),
            ("id", .string(id.rawValue)),
            ("title", .string(entry.title)),
            ("summary", .string(entry.summary)),
            ("fixes", .strings(entry.fixes)),
            ("requiredData", .strings(id.requiredDataKeys)),
            ("statuses", .array(UpgradeStatuses.all.filter { $0.causeID == id }.map { .int($0.status) })),
        ]
        if id == .idleTimeout {
            fields.append(("platformTimeouts", .array(PlatformIdleTimeouts.all.map { timeout in
                .object([
                    ("name", .string(timeout.name)),
                    ("defaultSeconds", .number(timeout.defaultSeconds)),
                    ("setting", .string(timeout.setting)),
                    ("resetsOnTraffic", .bool(timeout.resetsOnTraffic)),
                    ("recommendedPingSeconds",
                     .number(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: timeout.defaultSeconds))),
                ])
            })))
        }
        return render(.object(fields))
    }

    static func list() -> String {
        render(.object([
            ("closeCodes", .array(CloseCodes.all.map { .object(closeCodeFields($0)) })),
            ("statuses", .array(UpgradeStatuses.all.map { .object(statusFields($0)) })),
            ("causes", .array(CauseID.allCases.map { id in
                .object([("id", .string(id.rawValue)), ("title", .string(CauseCatalogue.entry(id).title))])
            })),
        ]))
    }

    private static func closeCodeFields(_ info: CloseCodeInfo) -> [(String, JSONValue)] {
        [
            ("kind", "close-code"),
            ("code", .int(info.code)),
            ("range", .array([.int(info.range.lowerBound), .int(info.range.upperBound)])),
            ("name", .string(info.name)),
            ("meaning", .string(info.meaning)),
            ("sentBy", .string(info.sentBy)),
            ("onWire", .bool(info.onWire)),
        ]
    }

    private static func statusFields(_ info: UpgradeStatusInfo) -> [(String, JSONValue)] {
        [
            ("kind", "http-status"),
            ("status", .int(info.status)),
            ("name", .string(info.name)),
            ("meaning", .string(info.meaning)),
            ("sentBy", .string(info.sentBy)),
            ("causeId", .optional(info.causeID?.rawValue)),
        ]
    }

    /// Pretty-printed with sorted keys, so the output is the same on every run and platform.
    private static func render(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }
}
