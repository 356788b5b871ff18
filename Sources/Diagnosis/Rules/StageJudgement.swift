/// What the rules of one stage conclude from the evidence: the stage's line in the
/// report, findings, and — when the stage failed — the cause it proves.
public struct StageJudgement: Sendable, Equatable {
    public var stage: Report.Stage
    public var cause: Report.Cause?
    public var findings: [Report.Finding]

    public init(stage: Report.Stage, cause: Report.Cause? = nil, findings: [Report.Finding] = []) {
        self.stage = stage
        self.cause = cause
        self.findings = findings
    }
}
