import ArgumentParser
import Foundation

@main
struct WSDoctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsdoctor",
        abstract: "Find out why a WebSocket fails, and keep realtime updates flowing anyway.",
        version: "0.1.0",
        subcommands: [DiagnoseCommand.self, ExplainCommand.self]
    )

    /// Bad usage is one line on stderr and exit 64, never a usage dump or a stack trace.
    static func main() async {
        do {
            var command = try parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            let code = exitCode(for: error)
            if code.rawValue == 64 {
                let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid usage"
                let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
                FileHandle.standardError.write(Data("wsdoctor: \(text) (see --help)\n".utf8))
                Foundation.exit(64)
            }
            exit(withError: error)
        }
    }
}
