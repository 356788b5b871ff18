import Foundation
import X509

/// Finds the `CERTIFICATE` blocks of a PEM bundle. Written by hand rather than with
/// `PEMDocument.parseMultiple` because that rejects a whole bundle for one odd block, while a
/// system bundle or a user's `--ca-file` often mixes in comments, keys or `TRUSTED CERTIFICATE`s
/// that should simply be skipped.
enum PEMCertificates {
    /// One `-----BEGIN CERTIFICATE-----` block: its DER bytes, or why they do not decode.
    struct Block {
        /// 1-based position among the certificate blocks, for error messages.
        var index: Int
        var der: Result<[UInt8], DecodeError>
    }

    struct DecodeError: Error, Equatable {
        var reason: String
    }

    private static let begin = "-----BEGIN CERTIFICATE-----"
    private static let end = "-----END CERTIFICATE-----"

    static func blocks(in text: String) -> [Block] {
        var blocks: [Block] = []
        var rest = text[...]
        while let start = rest.range(of: begin) {
            guard let stop = rest.range(of: end, range: start.upperBound..<rest.endIndex) else {
                blocks.append(Block(index: blocks.count + 1, der: .failure(DecodeError(reason: "no END line"))))
                break
            }
            let body = rest[start.upperBound..<stop.lowerBound].filter { !$0.isWhitespace }
            if let data = Data(base64Encoded: String(body)), !data.isEmpty {
                blocks.append(Block(index: blocks.count + 1, der: .success(Array(data))))
            } else {
                blocks.append(Block(index: blocks.count + 1, der: .failure(DecodeError(reason: "bad base64"))))
            }
            rest = rest[stop.upperBound...]
        }
        return blocks
    }

    /// Every certificate in a bundle that parses, skipping the rest: for the system bundle,
    /// where one unparseable root must not cost all the others.
    static func lenientCertificates(in text: String) -> [Certificate] {
        blocks(in: text).compactMap { block in
            guard case .success(let der) = block.der else { return nil }
            return try? Certificate(derEncoded: der)
        }
    }
}
