import Diagnosis
import Foundation
import Testing
@testable import Probe

/// Runs the whole probe + diagnosis against a local URL, with no proxy from the environment.
func diagnose(_ url: String, timeout: Double = 2, _ configure: (inout ProbeOptions) -> Void = { _ in }) async -> Report {
    var options = ProbeOptions(url: url)
    options.timeout = timeout
    options.proxy = .none
    options.environment = [:]
    configure(&options)
    return await Prober(options: options).report()
}

/// Asserts the cause and that every `data` key the spec requires for it is present.
func expectCause(_ report: Report, _ id: CauseID, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(report.cause.id == id.rawValue, "cause was \(report.cause.id): \(report.cause.summary)", sourceLocation: sourceLocation)
    for key in id.requiredDataKeys {
        #expect(report.cause.data[key] != nil, "data.\(key) missing for \(id.rawValue)", sourceLocation: sourceLocation)
    }
    // `failed` exactly when the cause is not healthy (healthy may be `healthy` or `degraded`).
    #expect((report.outcome == .failed) == (id != .healthy), sourceLocation: sourceLocation)
    #expect(report.exitStatus == (id == .healthy ? 0 : 1), sourceLocation: sourceLocation)
}

func stage(_ report: Report, _ name: StageName) -> Report.Stage? {
    report.stages.first { $0.name == name.rawValue }
}
