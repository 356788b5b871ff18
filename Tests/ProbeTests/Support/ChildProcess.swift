import Foundation
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `wsdoctor` binary and reports its exit status, output and its own
/// peak resident memory.
///
/// The peak is the child's `VmHWM`, sampled from /proc while it runs: `wait4`'s
/// `ru_maxrss` would include the test process's own high-water mark, which Linux carries
/// into a vforked child at exec.
struct MeasuredRun: Sendable {
    var status: Int32
    var stdout: String
    var peakRSSBytes: Int
}

enum ChildProcess {
    static var wsdoctorPath: String {
        let bundle = Bundle.allBundles.first { $0.bundlePath.hasSuffix(".xctest") }
        let dir = bundle?.bundleURL.deletingLastPathComponent() ?? URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        return dir.appendingPathComponent("wsdoctor").path
    }

    /// Spawns `wsdoctor args…` with stdout to a temp file; waits for it on a thread-pool
    /// thread (wait4 blocks), at most `timeout` seconds before killing it.
    static func runWSDoctor(_ args: [String], timeout: Double = 60) async throws -> MeasuredRun {
        let outPath = FileManager.default.temporaryDirectory.appendingPathComponent("wsdoctor-\(UUID().uuidString).out").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        let arguments: [String] = [wsdoctorPath] + args
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let environment: [String] = ["NO_COLOR=1", "PATH=/usr/bin:/bin"]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup($0) } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, wsdoctorPath, &actions, nil, argv, envp)
        guard rc == 0 else { throw POSIXError(POSIXErrorCode(rawValue: rc) ?? .EINVAL) }
        let child = pid
        let killer = Task {
            try await Task.sleep(for: .seconds(timeout))
            kill(child, SIGKILL)
        }
        defer { killer.cancel() }
        // Sample VmHWM (a high-water mark, so sampling misses no peak) until the child exits.
        let sampler = Task { () -> Int in
            var peak = 0
            while !Task.isCancelled {
                if let kb = Self.highWaterKB(pid: child) { peak = max(peak, kb) }
                try? await Task.sleep(for: .milliseconds(5))
            }
            return peak * 1024
        }
        // wait4 blocks: run it on NIO's thread pool, never on the cooperative pool (2 threads here).
        // WNOWAIT leaves the child a zombie, so its /proc entry can be read one last time.
        try await NIOThreadPool.singleton.runIfActive {
            var info = siginfo_t()
            _ = waitid(P_PID, id_t(child), &info, WEXITED | WNOWAIT)
        }
        sampler.cancel()
        let rss = await sampler.value
        var exitStatus: Int32 = 0
        waitpid(child, &exitStatus, 0)
        let exited = (exitStatus & 0x7F) == 0
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        return MeasuredRun(status: exited ? (exitStatus >> 8) & 0xFF : -1, stdout: out, peakRSSBytes: rss)
    }

    /// `VmHWM` of a running process, in KiB.
    static func highWaterKB(pid: pid_t) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
