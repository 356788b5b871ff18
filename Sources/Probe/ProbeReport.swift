import Diagnosis

extension Prober {
    /// Probes, diagnoses and redacts: the report every caller (CLI, monitor, server) gets.
    /// Credentials the user supplied never appear in it.
    public func report() async -> Report {
        let evidence = await run()
        let redactor = Redactor(headers: options.headers, url: options.url, proxyURL: {
            if case .explicit(let p) = options.proxy { return p }
            return nil
        }())
        return redactor.redact(report: Diagnoser.diagnose(evidence))
    }
}
