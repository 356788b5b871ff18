import ArgumentParser
import Foundation

@main
struct WSDoctor: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wsdoctor",
        abstract: "Find out why a WebSocket fails, and keep realtime updates flowing anyway.",
        version: "0.1.0",
        subcommands: [DiagnoseCommand.self, ExplainCommand.self, ServeCommand.self]
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
                // One line, whatever the user typed: control characters in echoed input are escaped.
                let message = message(for: error).trimmingCharacters(in: .whitespacesAndNewlines)
                let text = Self.printable(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
                FileHandle.standardError.write(Data("wsdoctor: \(text) (see --help)\n".utf8))
                Foundation.exit(64)
            }
            exit(withError: error)
        }
    }

    /// Escapes control characters so echoed input can neither break the line nor drive the terminal.
    static func printable(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\r": out += "\\r"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                out += "\\x" + String(scalar.value, radix: 16, uppercase: true)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
