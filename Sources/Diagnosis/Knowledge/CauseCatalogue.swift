/// The words that go with each cause id: a title, what it means, and how to fix it.
/// Rules take an entry and add the specifics they measured; `wsdoctor explain` prints it.
public enum CauseCatalogue {
    public struct Entry: Sendable, Equatable {
        public var title: String
        public var summary: String
        public var fixes: [String]
        public init(title: String, summary: String, fixes: [String]) {
            self.title = title
            self.summary = summary
            self.fixes = fixes
        }
    }

    public static func entry(_ id: CauseID) -> Entry { CauseTexts.entry(for: id) }

    /// A report cause for `id`: the catalogue's words, overridden where the rule knows
    /// better. `fixes` given here come first (most specific), catalogue fixes follow.
    public static func cause(
        _ id: CauseID, title: String? = nil, summary: String? = nil, confidence: Report.Confidence = .high,
        fixes: [String] = [], catalogueFixes: Bool = true, evidence: [String], data: JSONValue = .object([])
    ) -> Report.Cause {
        let e = entry(id)
        var allFixes = fixes
        // Measured fixes can make the generic ones wrong (a 30 s ping for a 4 s timeout).
        if catalogueFixes { for f in e.fixes where !allFixes.contains(f) { allFixes.append(f) } }
        return Report.Cause(
            id: id, title: title ?? e.title, summary: summary ?? e.summary, confidence: confidence, fixes: allFixes,
            evidence: evidence, data: data)
    }

    /// The same, for call sites that state the confidence before the summary.
    public static func cause(
        _ id: CauseID, title: String? = nil, confidence: Report.Confidence, summary: String? = nil,
        fixes: [String] = [], catalogueFixes: Bool = true, evidence: [String], data: JSONValue = .object([])
    ) -> Report.Cause {
        cause(id, title: title, summary: summary, confidence: confidence, fixes: fixes, catalogueFixes: catalogueFixes,
              evidence: evidence, data: data)
    }
}
