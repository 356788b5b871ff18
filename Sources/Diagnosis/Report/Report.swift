import Foundation

/// The JSON report of `../shared/spec/diagnosis.md` (`wsdoctor.report/v1`). Field names
/// are the contract; add fields freely, never rename.
public struct Report: Sendable, Equatable, Codable {
    public static let schemaID = "wsdoctor.report/v1"

    public struct Tool: Sendable, Equatable, Codable {
        public var name: String
        public var version: String
    }

    public struct TargetInfo: Sendable, Equatable, Codable {
        public var url: String
        public var host: String?
        public var port: Int?
        public var secure: Bool?
        public var path: String?
    }

    public enum Outcome: String, Sendable, Codable { case healthy, degraded, failed }
    public enum Confidence: String, Sendable, Codable { case high, medium, low }

    public struct Cause: Sendable, Equatable, Codable {
        public var id: String
        public var title: String
        public var summary: String
        public var confidence: Confidence
        public var fixes: [String]
        public var evidence: [String]
        public var data: JSONValue

        public init(id: CauseID, title: String, summary: String, confidence: Confidence, fixes: [String],
                    evidence: [String], data: JSONValue = .object([])) {
            self.id = id.rawValue
            self.title = title
            self.summary = summary
            self.confidence = confidence
            self.fixes = fixes
            self.evidence = evidence
            self.data = data
        }
    }

    public struct Finding: Sendable, Equatable, Codable {
        public enum Severity: String, Sendable, Codable { case error, warning, info }
        public var id: String
        public var severity: Severity
        public var stage: String
        public var message: String
        public var data: JSONValue

        public init(id: String, severity: Severity, stage: StageName, message: String, data: JSONValue = .object([])) {
            self.id = id
            self.severity = severity
            self.stage = stage.rawValue
            self.message = message
            self.data = data
        }
    }

    public struct Stage: Sendable, Equatable, Codable {
        public enum Status: String, Sendable, Codable { case passed, failed, warning, skipped }
        public var name: String
        public var status: Status
        public var durationMs: Double
        public var details: JSONValue
        /// One line for people: what this stage found.
        public var summary: String

        public init(name: StageName, status: Status, durationMs: Double, summary: String, details: JSONValue = .object([])) {
            self.name = name.rawValue
            self.status = status
            self.durationMs = (durationMs * 10).rounded() / 10
            self.summary = summary
            self.details = details
        }
    }

    public struct Transcript: Sendable, Equatable, Codable {
        public var request: String?
        public var response: String?
    }

    public struct Close: Sendable, Equatable, Codable {
        public var code: Int?
        public var reason: String
        public var initiatedBy: String
        public var clean: Bool

        public init(code: Int?, reason: String, initiatedBy: String, clean: Bool) {
            self.code = code
            self.reason = reason
            self.initiatedBy = initiatedBy
            self.clean = clean
        }

        /// `code` is written as `null` when there was none, so the shape never changes.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(code, forKey: .code)
            try c.encode(reason, forKey: .reason)
            try c.encode(initiatedBy, forKey: .initiatedBy)
            try c.encode(clean, forKey: .clean)
        }
    }

    public var schema = Report.schemaID
    public var tool: Tool
    public var target: TargetInfo
    public var startedAt: String
    public var durationMs: Double
    public var outcome: Outcome
    public var cause: Cause
    public var findings: [Finding]
    public var stages: [Stage]
    public var transcript: Transcript
    public var close: Close

    public init(tool: Tool, target: TargetInfo, startedAt: String, durationMs: Double, outcome: Outcome, cause: Cause,
                findings: [Finding], stages: [Stage], transcript: Transcript, close: Close) {
        self.tool = tool
        self.target = target
        self.startedAt = startedAt
        self.durationMs = durationMs
        self.outcome = outcome
        self.cause = cause
        self.findings = findings
        self.stages = stages
        self.transcript = transcript
        self.close = close
    }

    public var causeID: CauseID? { CauseID(rawValue: cause.id) }

    /// Exit status of `wsdoctor diagnose` for this report: 0 healthy (warnings allowed), 1 a cause was found.
    public var exitStatus: Int32 { cause.id == CauseID.healthy.rawValue ? 0 : 1 }
}

/// Stage names, in the order they run.
public enum StageName: String, CaseIterable, Sendable, Codable {
    case target, proxy, resolve, connect, tls, health, handshake, exchange, idle, close, fallback
}

public enum ToolInfo {
    public static let name = "wsdoctor"
    public static let version = "0.1.0"
}
