import ArgumentParser
import Diagnosis
import Foundation
import Probe

struct DiagnoseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "diagnose",
        abstract: "Find the root cause of a failing WebSocket, with evidence and fixes.",
        discussion: """
            Runs the stages target, proxy, resolve, connect, tls, health, handshake, exchange, idle, \
            close and fallback against URL and names one cause (see `wsdoctor explain CAUSE`).

            Exit status: 0 healthy (warnings allowed), 1 a cause was found, 64 bad usage, 70 internal error.

            Examples:
              wsdoctor diagnose wss://example.com/ws
              wsdoctor diagnose wss://example.com/ws --idle 75s          # find a proxy's idle timeout
              wsdoctor diagnose https://app.example/ws --origin https://app.example --format markdown
              wsdoctor diagnose ws://127.0.0.1:8080/ws --send '{"op":"ping"}' --expect pong
            """)

    @Argument(help: "ws://, wss://, http:// or https:// URL of the WebSocket endpoint (http(s) is read as ws(s)).")
    var url: String

    @Option(help: "Report format on stdout: text, json or markdown. Default: text on a terminal, else json.")
    var format: ReportFormat?

    @Option(help: ArgumentHelp("Also write the JSON report to FILE.", valueName: "FILE"))
    var output: String?

    @Option(help: ArgumentHelp("Budget for each network stage (500ms, 5s, 2m).", valueName: "DURATION"))
    var timeout: String = "10s"

    @Option(help: ArgumentHelp("After the upgrade, stay silent this long and watch for the connection being cut; 0 skips.", valueName: "DURATION"))
    var idle: String = "0"

    @Option(help: ArgumentHelp("Origin header to send, as a browser would, or 'none'.", valueName: "URL|none"))
    var origin: String?

    @Option(help: ArgumentHelp("Subprotocol to offer in Sec-WebSocket-Protocol (repeatable).", valueName: "NAME"))
    var subprotocol: [String] = []

    @Option(help: ArgumentHelp("Extra request header, e.g. 'Authorization: Bearer …' (repeatable). Credentials are redacted in reports.", valueName: "'Name: value'"))
    var header: [String] = []

    @Option(help: ArgumentHelp("After the upgrade, send TEXT and require a text reply.", valueName: "TEXT"))
    var send: String?

    @Option(help: ArgumentHelp("Regular expression the reply to --send must match.", valueName: "REGEX"))
    var expect: String?

    @Option(help: ArgumentHelp("Plain HTTP check of the service: a URL, 'auto' (/api/health, /health, /healthz) or 'none'.", valueName: "URL|auto|none"))
    var health: String = "auto"

    @Option(help: ArgumentHelp("Server-Sent Events fallback endpoint to check (found through /api/realtime on wsdoctor servers).", valueName: "URL"))
    var sse: String?

    @Option(help: ArgumentHelp("Long-polling fallback endpoint to check.", valueName: "URL"))
    var poll: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("Extra trusted root certificate(s), PEM.", valueName: "PEM"))
    var caFile: String?

    @Flag(help: "Continue past TLS verification failures (they are still reported).")
    var insecure = false

    @Option(help: ArgumentHelp("HTTP proxy to tunnel through with CONNECT. Default: HTTPS_PROXY/HTTP_PROXY/ALL_PROXY/NO_PROXY as curl reads them.", valueName: "URL"))
    var proxy: String?

    @Flag(name: .customLong("no-proxy"), help: "Ignore proxy environment variables and connect directly.")
    var noProxy = false

    enum ReportFormat: String, ExpressibleByArgument, CaseIterable {
        case text, json, markdown
    }

    func validate() throws {
        _ = try probeOptions()
    }

    /// Every option checked and turned into probe options; bad input is a ValidationError (exit 64).
    func probeOptions(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProbeOptions {
        let target: Target
        do { target = try Target.parse(url) } catch { throw ValidationError("\(url): \(error.description)") }
        var options = ProbeOptions(url: url)
        options.timeout = try Self.duration(timeout, option: "--timeout")
        guard options.timeout > 0 else { throw ValidationError("--timeout must be more than 0") }
        guard options.timeout <= 600 else { throw ValidationError("--timeout is at most 10m") }
        options.idle = try Self.duration(idle, option: "--idle")
        guard options.idle <= 3600 else { throw ValidationError("--idle is at most 1h") }
        if let origin {
            if origin.lowercased() == "none" {
                options.origin = nil
            } else {
                guard origin.contains("://"), !origin.contains(where: { $0.isWhitespace || $0.isNewline }) else {
                    throw ValidationError("--origin '\(origin)' is not an origin: write it like https://app.example or 'none'")
                }
                options.origin = origin
            }
        }
        for name in subprotocol {
            guard HeaderSyntax.isToken(name) else { throw ValidationError("--subprotocol '\(name)' is not a valid token") }
        }
        options.subprotocols = subprotocol
        options.headers = try header.map { raw in
            guard let parsed = HeaderSyntax.parse(raw) else {
                throw ValidationError("--header '\(raw.prefix(60))' is not 'Name: value' (no line breaks, name is a token)")
            }
            let reserved = ["host", "upgrade", "connection", "sec-websocket-key", "sec-websocket-version", "sec-websocket-accept"]
            if reserved.contains(parsed.0.lowercased()) {
                throw ValidationError("--header \(parsed.0) is set by the probe itself and cannot be overridden")
            }
            return parsed
        }
        if let expect {
            guard send != nil else { throw ValidationError("--expect needs --send") }
            do { _ = try NSRegularExpression(pattern: expect) } catch {
                throw ValidationError("--expect '\(expect)' is not a valid regular expression")
            }
        }
        options.sendText = send
        options.expectPattern = expect
        switch health.lowercased() {
        case "auto": options.health = .auto
        case "none": options.health = .none
        default:
            guard Self.isHTTPURL(health) else { throw ValidationError("--health '\(health)' must be an http(s) URL, 'auto' or 'none'") }
            options.health = .url(health)
        }
        for (name, value) in [("--sse", sse), ("--poll", poll)] {
            if let value, !Self.isHTTPURL(value) { throw ValidationError("\(name) '\(value)' must be an http(s) URL") }
        }
        options.sseURL = sse
        options.pollURL = poll
        if let caFile {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: caFile, isDirectory: &isDirectory), !isDirectory.boolValue else {
                throw ValidationError("--ca-file \(caFile): no such file")
            }
            guard FileManager.default.isReadableFile(atPath: caFile) else { throw ValidationError("--ca-file \(caFile): not readable") }
        }
        options.caFile = caFile
        options.insecure = insecure
        if proxy != nil && noProxy { throw ValidationError("--proxy and --no-proxy cannot be used together") }
        if let proxy { options.proxy = .explicit(proxy) } else if noProxy { options.proxy = .none }
        options.environment = environment
        do { _ = try ProxySelection.select(for: target, setting: options.proxy, environment: environment) } catch {
            throw ValidationError(error.description)
        }
        if let output {
            let folder = URL(fileURLWithPath: output).deletingLastPathComponent().path
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ValidationError("--output \(output): the folder \(folder) does not exist")
            }
        }
        return options
    }

    func run() async throws {
        let options = try probeOptions()
        let stdoutIsTTY = TerminalStyle.isInteractive(STDOUT_FILENO)
        let format = format ?? (stdoutIsTTY ? .text : .json)
        let display = ProgressDisplay()
        let report = await Prober(options: options, progress: { event in display.handle(event) }).report()
        await display.finish()

        let rendered: String
        switch format {
        case .json: rendered = JSONReportRenderer.render(report)
        case .markdown: rendered = MarkdownReportRenderer.render(report)
        case .text:
            let color = TerminalStyle.colorEnabled(isTTY: stdoutIsTTY, environment: ProcessInfo.processInfo.environment)
            rendered = TextReportRenderer(color: color, width: TerminalStyle.columns(STDOUT_FILENO)).render(report)
        }
        FileHandle.standardOutput.write(Data((rendered.hasSuffix("\n") ? rendered : rendered + "\n").utf8))
        if let output {
            do { try Data((JSONReportRenderer.render(report) + "\n").utf8).write(to: URL(fileURLWithPath: output)) } catch {
                FileHandle.standardError.write(Data("wsdoctor: cannot write --output \(output): \(error.localizedDescription)\n".utf8))
                throw ExitCode(73)
            }
        }
        throw ExitCode(report.exitStatus)
    }

    static func duration(_ text: String, option: String) throws -> Double {
        do { return try DurationText.seconds(text) } catch { throw ValidationError("\(option) \(error.description)") }
    }

    static func isHTTPURL(_ text: String) -> Bool {
        guard let t = try? Target.parse(text) else { return false }
        _ = t
        let lower = text.lowercased()
        return lower.hasPrefix("http://") || lower.hasPrefix("https://")
    }
}
