import Foundation
import NIOConcurrencyHelpers
import RealtimeCore

/// The server's telemetry aggregate (bounded memory) behind a lock.
final class TelemetryCollector: Sendable {
    private let stats: NIOLockedValueBox<TelemetryStats>

    init(since: Date = Date(), reservoir: Int = 1024, maxDistinct: Int = 100) {
        stats = NIOLockedValueBox(TelemetryStats(since: since, reservoir: reservoir, maxDistinct: maxDistinct))
    }

    func add(_ events: [TelemetryEvent]) { stats.withLockedValue { $0.add(events) } }

    var snapshot: TelemetryStats { stats.withLockedValue { $0 } }
}
