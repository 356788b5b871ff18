import Foundation
import Testing

/// `wsdoctor diagnose` as scripts and people call it: bad usage, output formats, colour,
/// and the proxy environment. The real binary, its exit status and its output.
@Suite("wsdoctor diagnose: usage and output")
struct DiagnoseUsageTests {
    /// A command line that must be refused, and a word the one-line error must contain.
    struct Misuse: Sendable, CustomTestStringConvertible {
        var args: [String]
        var mentions: String
        var testDescription: String { args.joined(separator: " ").debugDescription }
    }

    static let url = "ws://127.0.0.1:9/ws"  // never contacted: usage is checked first

    static let misuses: [Misuse] = [
        Misuse(args: ["ftp://x"], mentions: "ftp"),
        Misuse(args: ["not a url"], mentions: "not a url"),
        Misuse(args: ["ws://"], mentions: "host"),
        Misuse(args: ["ws://host:99999/"], mentions: "99999"),
        Misuse(args: [url, "--bogus"], mentions: "--bogus"),
        Misuse(args: [url, "--timeout", "5q"], mentions: "5q"),
        Misuse(args: [url, "--idle=-1s"], mentions: "-1s"),
        Misuse(args: [url, "--idle", "-1s"], mentions: "--idle"),
        Misuse(args: [url, "--ca-file", "/nonexistent/wsdoctor-ca.pem"], mentions: "--ca-file"),
        Misuse(args: [url, "--header", "NoColonHere"], mentions: "--header"),
        Misuse(args: [url, "--header", "X-A: b\r\nX-Injected: 1"], mentions: "--header"),
        Misuse(args: [url, "--header", "X-A: b\nX-Injected: 1"], mentions: "--header"),
        Misuse(args: [url, "--expect", "pong"], mentions: "--expect"),
        Misuse(args: [url, "--send", "ping", "--expect", "(unclosed"], mentions: "--expect"),
        Misuse(args: [url, "--proxy", "socks5://127.0.0.1:1080"], mentions: "socks5"),
        Misuse(args: [url, "--proxy", "http://127.0.0.1:3128", "--no-proxy"], mentions: "--no-proxy"),
    ]

    @Test("bad usage: exit 64, one line on stderr naming the problem, nothing on stdout", arguments: misuses)
    func badUsage(_ misuse: Misuse) async throws {
        let r = try await WSDoctorBinary.run(["diagnose"] + misuse.args, timeout: 30)
        #expect(r.status == 64, "stderr: \(r.stderr)")
        #expect(r.stdout.isEmpty, "stdout: \(r.stdout.prefix(300))")
        // Any line break counts, CR included: a raw CR/LF in the message would break log lines.
        let lines = r.stderr.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline)
        #expect(lines.count == 1, "expected one line, got \(lines.count): \(r.stderr.debugDescription)")
        #expect(r.stderr.contains(misuse.mentions), "the error should name \(misuse.mentions): \(r.stderr)")
    }

    // MARK: - Output formats

    @Test func closedPortAsJSON() async throws {
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(port)/ws", "--format", "json", "--timeout", "3s"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        let report = try Self.json(r.stdout)
        #expect(report["schema"] as? String == "wsdoctor.report/v1")
        #expect(report["outcome"] as? String == "failed")
        let cause = try #require(report["cause"] as? [String: Any])
        #expect(cause["id"] as? String == "connection-refused")
        #expect((cause["data"] as? [String: Any])?["port"] as? Int == port)
    }

    @Test func markdownReport() async throws {
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(port)/ws", "--format", "markdown", "--timeout", "3s"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stdout.hasPrefix("#"), "a markdown report starts with a heading: \(r.stdout.prefix(200))")
        #expect(r.stdout.contains("`connection-refused`"))
        #expect(r.stdout.contains("|---"), "the stages table is missing")
        #expect((try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8))) == nil)
    }

    @Test func outputFileGetsTheJSONReport() async throws {
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-report-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: file) }
        let r = try await WSDoctorBinary.run(
            ["diagnose", "ws://127.0.0.1:\(port)/ws", "--format", "markdown", "--output", file.path, "--timeout", "3s"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stdout.hasPrefix("#"), "stdout keeps the requested format")
        let written = try String(contentsOf: file, encoding: .utf8)
        let report = try Self.json(written)
        #expect(report["schema"] as? String == "wsdoctor.report/v1")
        #expect((report["cause"] as? [String: Any])?["id"] as? String == "connection-refused")
    }

    @Test func defaultFormatWhenPipedIsJSON() async throws {
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(port)/ws", "--timeout", "3s"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        let report = try Self.json(r.stdout)
        #expect(report["schema"] as? String == "wsdoctor.report/v1")
    }

    // MARK: - Colour

    /// A pipe never gets escape sequences, even with colour allowed by the environment.
    @Test func pipedTextHasNoEscapes() async throws {
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        // NO_COLOR empty counts as absent (no-color.org): only the pipe should turn colour off.
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(port)/ws", "--format", "text", "--timeout", "3s"],
                                             environment: ["NO_COLOR": "", "TERM": "xterm-256color"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("connection-refused") || r.stdout.contains("connection refused"), "stdout: \(r.stdout.prefix(300))")
        #expect(!r.stdout.contains("\u{1B}"), "ANSI escape on a pipe: \(r.stdout.prefix(300).debugDescription)")
        #expect(!r.stderr.contains("\u{1B}"), "ANSI escape on a piped stderr: \(r.stderr.prefix(300).debugDescription)")
    }

    /// On a terminal the default is the text report in colour; NO_COLOR=1 removes every
    /// escape sequence (the pty is made by util-linux `script`).
    @Test(arguments: [false, true])
    func terminal(noColor: Bool) async throws {
        let script = "/usr/bin/script"
        try #require(FileManager.default.isExecutableFile(atPath: script), "util-linux `script` is needed to give wsdoctor a terminal")
        let closed = try ReservedPort()
        defer { closed.close() }
        let port = closed.port
        let command = "'\(WSDoctorBinary.url.path)' diagnose ws://127.0.0.1:\(port)/ws --timeout 3s"
        let r = try await Command.run(script, ["-q", "-e", "-c", command, "/dev/null"],
                                      environment: ["NO_COLOR": noColor ? "1" : "", "TERM": "xterm-256color"])
        #expect(r.status == 1, "output: \(r.stdout.prefix(300))")
        #expect(!r.stdout.hasPrefix("{"), "a terminal gets the text report, not JSON")
        #expect(r.stdout.contains("ws://127.0.0.1:\(port)/ws"))
        if noColor {
            #expect(!r.stdout.contains("\u{1B}"), "ANSI escape despite NO_COLOR=1: \(r.stdout.prefix(300).debugDescription)")
        } else {
            #expect(r.stdout.contains("\u{1B}["), "a terminal without NO_COLOR gets colour")
        }
    }

    // MARK: - Proxy environment

    @Test func httpProxyFromEnvironmentIsUsed() async throws {
        let (proxy, target) = (try ReservedPort(), try ReservedPort())
        defer { proxy.close(); target.close() }
        let (proxyPort, targetPort) = (proxy.port, target.port)
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(targetPort)/ws", "--format", "json", "--timeout", "3s"],
                                             environment: ["HTTP_PROXY": "http://127.0.0.1:\(proxyPort)"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        #expect(try Self.causeID(r.stdout) == "proxy-unreachable")
    }

    @Test func noProxyBypassesTheProxy() async throws {
        let (proxy, target) = (try ReservedPort(), try ReservedPort())
        defer { proxy.close(); target.close() }
        let (proxyPort, targetPort) = (proxy.port, target.port)
        let r = try await WSDoctorBinary.run(["diagnose", "ws://127.0.0.1:\(targetPort)/ws", "--format", "json", "--timeout", "3s"],
                                             environment: ["HTTP_PROXY": "http://127.0.0.1:\(proxyPort)", "NO_PROXY": "127.0.0.1"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        let report = try Self.json(r.stdout)
        let cause = try #require(report["cause"] as? [String: Any])
        #expect(cause["id"] as? String == "connection-refused")
        #expect((cause["data"] as? [String: Any])?["port"] as? Int == targetPort, "the target was dialled directly")
    }

    @Test func noProxyFlagIgnoresTheEnvironment() async throws {
        let (proxy, target) = (try ReservedPort(), try ReservedPort())
        defer { proxy.close(); target.close() }
        let (proxyPort, targetPort) = (proxy.port, target.port)
        let r = try await WSDoctorBinary.run(
            ["diagnose", "ws://127.0.0.1:\(targetPort)/ws", "--format", "json", "--timeout", "3s", "--no-proxy"],
            environment: ["HTTP_PROXY": "http://127.0.0.1:\(proxyPort)"])
        #expect(r.status == 1, "stderr: \(r.stderr)")
        let report = try Self.json(r.stdout)
        let cause = try #require(report["cause"] as? [String: Any])
        #expect(cause["id"] as? String == "connection-refused")
        #expect((cause["data"] as? [String: Any])?["port"] as? Int == targetPort)
    }

    // MARK: -

    static func json(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        try #require(try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                     "not a JSON object: \(text.prefix(300))", sourceLocation: sourceLocation)
    }

    static func causeID(_ text: String) throws -> String? {
        (try json(text)["cause"] as? [String: Any])?["id"] as? String
    }
}
