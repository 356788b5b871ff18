/// Events the probe emits while it runs, so a terminal can show progress. Purely
/// informational: the report is built from `Evidence` alone.
public enum ProbeProgress: Sendable, Equatable {
    case stageStarted(StageName, detail: String)
    case stageFinished(StageName, ok: Bool, durationMs: Double, detail: String)
    case stageSkipped(StageName)
    /// Once a second during the idle hold.
    case idleTick(elapsedSeconds: Double, totalSeconds: Double, serverPings: Int)
}
