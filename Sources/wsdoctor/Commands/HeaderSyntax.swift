/// RFC 9110 syntax for header names and values given on the command line.
enum HeaderSyntax {
    private static let tokenCharacters = Set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")

    static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 256 && text.allSatisfy { tokenCharacters.contains($0) }
    }

    /// `Name: value` → (name, value); nil when the name is not a token or the value has
    /// control characters (CR/LF would let a value inject headers).
    static func parse(_ raw: String) -> (String, String)? {
        guard let colon = raw.firstIndex(of: ":") else { return nil }
        let name = String(raw[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(raw[raw.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        guard isToken(name), value.utf8.count <= 8192,
              !value.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F })
        else { return nil }
        return (name, value)
    }
}

import Foundation
