import Diagnosis

/// Everything `diagnose` (and later `monitor`) can ask of one probe run.
public struct ProbeOptions: Sendable {
    public enum Health: Sendable, Equatable {
        case auto
        case none
        case url(String)
    }

    /// The URL as the user wrote it; parsed by the probe (a bad one becomes `invalid-target`).
    public var url: String
    /// Budget for each network stage.
    public var timeout: Double = 10
    /// Silent hold after the upgrade; 0 skips the idle stage.
    public var idle: Double = 0
    public var origin: String?
    public var subprotocols: [String] = []
    public var headers: [(String, String)] = []
    public var sendText: String?
    public var expectPattern: String?
    public var health: Health = .auto
    public var sseURL: String?
    public var pollURL: String?
    public var caFile: String?
    public var insecure = false
    public var proxy: ProxySelection.Setting = .environment
    public var environment: [String: String] = [:]
    /// Largest WebSocket frame the probe accepts from the server.
    public var maxFrameSize = 1 << 20

    public init(url: String) { self.url = url }

    var settingsSummary: ProbeSettingsSummary {
        var s = ProbeSettingsSummary(
            timeoutSeconds: timeout, idleSeconds: idle, origin: origin, subprotocols: subprotocols, sendText: sendText,
            expectPattern: expectPattern, insecure: insecure, extraHeaderNames: headers.map(\.0))
        s.rawURL = url
        s.healthDisabled = health == .none
        return s
    }
}
