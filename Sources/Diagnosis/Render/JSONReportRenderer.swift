/// The machine-readable report (`wsdoctor.report/v1`): what scripts, CI, the monitor
/// and the browser page consume.
///
/// Keys come out in the order of the spec's example, the same every run, so two
/// reports can be diffed line by line (Foundation's `JSONEncoder` cannot promise that
/// on Linux; see `OrderedJSONWriter`). The shape never changes with the content:
/// absent optional values are written as `null`, not left out, so consumers can index
/// without checking for presence. Times in milliseconds carry at most one decimal.
///
/// As a last line of defence the report is passed through `Redactor.structural` first:
/// credential headers and token query parameters never reach the output even if the
/// caller forgot to redact. Secrets that only the user's input can reveal (a token in
/// an unusual header, echoed in prose) need `Redactor(headers:url:proxyURL:)`, which
/// the caller applies before rendering.
public enum JSONReportRenderer {
    /// Pretty-printed JSON (two-space indent), without a trailing newline.
    public static func render(_ report: Report) -> String {
        OrderedJSONWriter.write(value(of: Redactor.structural.redact(report: report)))
    }

    /// The report as an ordered `JSONValue`: the contract's key order lives here.
    static func value(of report: Report) -> JSONValue {
        .object([
            ("schema", .string(report.schema)),
            ("tool", .object([("name", .string(report.tool.name)), ("version", .string(report.tool.version))])),
            ("target", target(report.target)),
            ("startedAt", .string(report.startedAt)),
            ("durationMs", .ms(report.durationMs)),
            ("outcome", .string(report.outcome.rawValue)),
            ("cause", cause(report.cause)),
            ("findings", .array(report.findings.map(finding))),
            ("stages", .array(report.stages.map(stage))),
            ("transcript", .object([
                ("request", .optional(report.transcript.request)),
                ("response", .optional(report.transcript.response)),
            ])),
            ("close", .object([
                ("code", report.close.code.map(JSONValue.int) ?? .null),
                ("reason", .string(report.close.reason)),
                ("initiatedBy", .string(report.close.initiatedBy)),
                ("clean", .bool(report.close.clean)),
            ])),
        ])
    }

    private static func target(_ t: Report.TargetInfo) -> JSONValue {
        .object([
            ("url", .string(t.url)),
            ("host", .optional(t.host)),
            ("port", t.port.map(JSONValue.int) ?? .null),
            ("secure", t.secure.map(JSONValue.bool) ?? .null),
            ("path", .optional(t.path)),
        ])
    }

    private static func cause(_ c: Report.Cause) -> JSONValue {
        .object([
            ("id", .string(c.id)),
            ("title", .string(c.title)),
            ("summary", .string(c.summary)),
            ("confidence", .string(c.confidence.rawValue)),
            ("fixes", .strings(c.fixes)),
            ("evidence", .strings(c.evidence)),
            ("data", roundingMilliseconds(c.data)),
        ])
    }

    private static func finding(_ f: Report.Finding) -> JSONValue {
        .object([
            ("id", .string(f.id)),
            ("severity", .string(f.severity.rawValue)),
            ("stage", .string(f.stage)),
            ("message", .string(f.message)),
            ("data", roundingMilliseconds(f.data)),
        ])
    }

    /// `summary` is not in the spec's example (it was added later, as the spec allows);
    /// it sits before `details` because a person reading the file wants the line
    /// before the particulars.
    private static func stage(_ s: Report.Stage) -> JSONValue {
        .object([
            ("name", .string(s.name)),
            ("status", .string(s.status.rawValue)),
            ("durationMs", .ms(s.durationMs)),
            ("summary", .string(s.summary)),
            ("details", roundingMilliseconds(s.details)),
        ])
    }

    /// Free-form `data`/`details` follow the report's convention that a key ending in
    /// `Ms` holds milliseconds: those numbers are rounded to 0.1 like the fixed fields,
    /// so a rule storing a raw measurement does not leak 15 digits of noise.
    static func roundingMilliseconds(_ value: JSONValue) -> JSONValue {
        switch value {
        case .array(let items): return .array(items.map(roundingMilliseconds))
        case .object(let pairs):
            return .object(pairs.map { key, item in
                if key.hasSuffix("Ms"), case .number(let n) = item { return (key, .ms(n)) }
                return (key, roundingMilliseconds(item))
            })
        default: return value
        }
    }
}
