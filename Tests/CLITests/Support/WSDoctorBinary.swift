import Foundation

/// Runs the `wsdoctor` executable built beside the test bundle, as a user would.
struct CommandResult: Sendable {
    var status: Int32
    var stdout: String
    var stderr: String
}

enum WSDoctorBinary {
    /// The build products folder: the test bundle lives there too.
    static var productsDirectory: URL {
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }
        if let bundle { return bundle.bundleURL.deletingLastPathComponent() }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    }

    static var url: URL { productsDirectory.appendingPathComponent("wsdoctor") }

    /// Runs `wsdoctor args…` with `environment` added to a clean one; kills it after `timeout` seconds.
    ///
    /// Output goes to temp files and the exit is awaited through `terminationHandler`, so
    /// no thread of the cooperative pool (two on this machine) is ever blocked.
    static func run(_ args: [String], environment: [String: String] = [:], stdin: String? = nil,
                    timeout: Double = 60) async throws -> CommandResult {
        try await Command.run(url.path, args, environment: environment, stdin: stdin, timeout: timeout)
    }
}

/// Runs any command with a clean proxy environment, `NO_COLOR`, and a bounded wait.
enum Command {
    static func run(_ executable: String, _ args: [String], environment: [String: String] = [:], stdin: String? = nil,
                    timeout: Double = 30) async throws -> CommandResult {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outURL = folder.appendingPathComponent("stdout"), errURL = folder.appendingPathComponent("stderr")
        let inURL = folder.appendingPathComponent("stdin")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: inURL.path, contents: Data((stdin ?? "").utf8))

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for key in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy"] {
            env[key] = nil
        }
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let input = try FileHandle(forReadingFrom: inURL)
        defer { try? out.close(); try? err.close(); try? input.close() }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input

        let (exits, exited) = AsyncStream.makeStream(of: Int32.self)
        process.terminationHandler = { p in
            exited.yield(p.terminationStatus)
            exited.finish()
        }
        try process.run()
        // A hung command is killed, so a test fails instead of hanging the run.
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(pid, SIGKILL)
        }
        defer { watchdog.cancel() }
        var status: Int32 = -1
        for await s in exits { status = s }
        return CommandResult(status: status,
                             stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                             stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
