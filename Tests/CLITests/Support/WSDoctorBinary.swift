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

    /// Runs `wsdoctor args…` with `environment` added to a clean one; gives up after `timeout` seconds.
    static func run(_ args: [String], environment: [String: String] = [:], stdin: String? = nil,
                    timeout: Double = 60) async throws -> CommandResult {
        let process = Process()
        process.executableURL = url
        process.arguments = args
        var env = ProcessInfo.processInfo.environment
        for key in ["HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "https_proxy", "http_proxy", "all_proxy", "no_proxy"] {
            env[key] = nil
        }
        env["NO_COLOR"] = "1"
        for (k, v) in environment { env[k] = v }
        process.environment = env
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes concurrently so a full pipe never blocks the child.
        async let outData = Task.detached { out.fileHandleForReading.readDataToEndOfFile() }.value
        async let errData = Task.detached { err.fileHandleForReading.readDataToEndOfFile() }.value
        let deadline = ContinuousClock.now + .seconds(timeout)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                break
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus,
                             stdout: String(decoding: await outData, as: UTF8.self),
                             stderr: String(decoding: await errData, as: UTF8.self))
    }
}
