import Metrics
import NIOConcurrencyHelpers
import Prometheus
import RealtimeCore

/// The server's counters and gauges, named once here so every transport reports the
/// same way. swift-metrics handles on a Prometheus registry of this server's own (never
/// the process-wide `MetricsSystem`: several servers may share a process), exposed by
/// `GET /metrics`. Every label takes a bounded set of values (unknown ones are `other`),
/// so no client can make the exposition grow.
public final class ServerMetrics: Sendable {
    /// What `GET /metrics` emits.
    public let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let connections: [TransportKind: Meter]
    private let deliveredCounters: [TransportKind: Metrics.Counter]
    private let publishedCounter: Metrics.Counter
    private let reportsStoredCounter: Metrics.Counter
    private let reportsGauge: Meter
    /// Counters whose labels are only known when they happen (status, close code …),
    /// made once per label set. Bounded because every label value is.
    private let labelled = NIOLockedValueBox([String: Metrics.Counter]())

    enum Name {
        static var connections: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "connections", unitName: "", helpText: "Open connections by transport") }
        static var handshakes: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "handshakes", unitName: "total",
            helpText: "WebSocket upgrade attempts by outcome (upgraded, rejected) and HTTP status sent") }
        static var closes: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "websocket_closes", unitName: "total",
            helpText: "WebSocket connections closed, by close code (sent or received)") }
        static var published: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "messages_published", unitName: "total", helpText: "Messages published on channels") }
        static var delivered: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "messages_delivered", unitName: "total", helpText: "Messages delivered to clients, by transport") }
        static var fallbacks: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "client_fallbacks", unitName: "total",
            helpText: "Fallbacks clients reported through telemetry, by the transport they fell back to") }
        static var telemetry: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "telemetry_events", unitName: "total",
            helpText: "Connection events clients reported through telemetry, by transport and outcome") }
        static var reportsStored: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "reports_stored", unitName: "total", helpText: "Diagnostics reports stored since start") }
        static var reports: MetricNameDescriptor { MetricNameDescriptor(
            namespace: "wsdoctor", metricName: "reports", unitName: "", helpText: "Diagnostics reports in the store") }
    }

    public init() {
        factory = PrometheusMetricsFactory(registry: registry)
        var connections: [TransportKind: Meter] = [:]
        var delivered: [TransportKind: Metrics.Counter] = [:]
        for kind in TransportKind.allCases {
            let labels = [("transport", kind.rawValue)]
            connections[kind] = Meter(label: Name.connections.name, dimensions: labels,
                                      handler: registry.makeGauge(descriptor: Name.connections, labels: labels), factory: factory)
            delivered[kind] = Metrics.Counter(label: Name.delivered.name, dimensions: labels,
                                              handler: registry.makeCounter(descriptor: Name.delivered, labels: labels), factory: factory)
        }
        self.connections = connections
        self.deliveredCounters = delivered
        publishedCounter = Metrics.Counter(label: Name.published.name, dimensions: [],
                                           handler: registry.makeCounter(descriptor: Name.published), factory: factory)
        reportsStoredCounter = Metrics.Counter(label: Name.reportsStored.name, dimensions: [],
                                               handler: registry.makeCounter(descriptor: Name.reportsStored), factory: factory)
        reportsGauge = Meter(label: Name.reports.name, dimensions: [],
                             handler: registry.makeGauge(descriptor: Name.reports), factory: factory)
        // Series that exist from the start, at 0, so dashboards see them before the first event.
        for kind in TransportKind.allCases { _ = counter(Name.fallbacks, [("transport", kind.rawValue)]) }
    }

    public func connectionOpened(_ kind: TransportKind) { connections[kind]?.increment() }
    public func connectionClosed(_ kind: TransportKind) { connections[kind]?.decrement() }

    /// One upgrade attempt: `upgraded` or `rejected`, with the HTTP status sent.
    public func handshake(outcome: String, status: Int) {
        let outcome = ["upgraded", "rejected"].contains(outcome) ? outcome : "other"
        let status = (100...599).contains(status) ? String(status) : "other"
        counter(Name.handshakes, [("outcome", outcome), ("status", status)]).increment()
    }

    /// A WebSocket closed with this code (sent or received).
    public func closed(code: Int) {
        counter(Name.closes, [("code", Self.closeCodeLabel(code))]).increment()
    }

    /// Whoever calls `ChannelStore.publish` calls this once per message.
    public func published() { publishedCounter.increment() }

    public func delivered(_ count: Int, over kind: TransportKind) {
        guard count > 0 else { return }
        deliveredCounters[kind]?.increment(by: count)
    }

    /// A client reported falling back (telemetry).
    public func fallback(to kind: String) {
        counter(Name.fallbacks, [("transport", Self.transportLabel(kind))]).increment()
    }

    /// One telemetry event, by transport and outcome.
    public func telemetryEvent(transport: String, outcome: String) {
        let outcome = TelemetryOutcome(rawValue: outcome)?.rawValue ?? "other"
        counter(Name.telemetry, [("transport", Self.transportLabel(transport)), ("outcome", outcome)]).increment()
    }

    public func reportStored() {
        reportsStoredCounter.increment()
        reportsGauge.increment()
    }

    /// The number of reports found in the store at start.
    public func reportsInStore(_ count: Int) { reportsGauge.set(count) }

    /// The Prometheus text exposition of every metric of this server.
    public func exposition() -> [UInt8] { registry.emitToBuffer() }

    private func counter(_ name: MetricNameDescriptor, _ labels: [(String, String)]) -> Metrics.Counter {
        let key = name.name + "{" + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",") + "}"
        return labelled.withLockedValue { cache in
            if let c = cache[key] { return c }
            let c = Metrics.Counter(label: name.name, dimensions: labels,
                                    handler: registry.makeCounter(descriptor: name, labels: labels), factory: factory)
            cache[key] = c
            return c
        }
    }

    /// Close codes of the protocol and of RFC 6455 are their own series; others are `other`.
    static let knownCloseCodes: Set<Int> = [1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015,
                                            4400, 4401, 4408, 4429]

    static func closeCodeLabel(_ code: Int) -> String { knownCloseCodes.contains(code) ? String(code) : "other" }

    static func transportLabel(_ kind: String) -> String { TransportKind(rawValue: kind)?.rawValue ?? "other" }
}
