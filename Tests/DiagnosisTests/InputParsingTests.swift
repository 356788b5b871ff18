import Diagnosis
import Foundation
import Testing

/// What the user types: the URL, durations, and the proxy (flags and environment).
@Suite("Target parsing")
struct TargetParsingTests {
    @Test("schemes map to ws/wss with default ports",
          arguments: [
              ("ws://example.com/ws", "ws://example.com/ws", false, 80),
              ("wss://example.com/ws", "wss://example.com/ws", true, 443),
              ("http://example.com/ws", "ws://example.com/ws", false, 80),
              ("https://example.com/ws", "wss://example.com/ws", true, 443),
              ("HTTPS://Example.COM/ws", "wss://example.com/ws", true, 443),
          ] as [(String, String, Bool, Int)])
    func schemes(raw: String, url: String, secure: Bool, port: Int) throws {
        let t = try Target.parse(raw)
        #expect(t.url == url)
        #expect(t.secure == secure)
        #expect(t.port == port)
        #expect(t.host == "example.com")
        #expect(t.path == "/ws")
    }

    @Test("an explicit port is kept; a default one is left out of the url")
    func ports() throws {
        let custom = try Target.parse("http://example.com:8080/ws")
        #expect(custom.port == 8080)
        #expect(custom.url == "ws://example.com:8080/ws")
        #expect(custom.hostHeader == "example.com:8080")
        let explicitDefault = try Target.parse("wss://example.com:443/ws")
        #expect(explicitDefault.port == 443)
        #expect(explicitDefault.url == "wss://example.com/ws")
    }

    @Test("no path means /")
    func rootPath() throws {
        #expect(try Target.parse("wss://example.com").path == "/")
        #expect(try Target.parse("wss://example.com?x=1").path == "/?x=1")
    }

    @Test("IPv6 literals in brackets, with and without a port")
    func ipv6() throws {
        let t = try Target.parse("ws://[::1]:9000/ws")
        #expect(t.host == "::1")
        #expect(t.port == 9000)
        #expect(t.isIPv6Literal)
        #expect(t.isIPLiteral)
        #expect(t.url == "ws://[::1]:9000/ws")
        #expect(t.hostHeader == "[::1]:9000")
        let d = try Target.parse("wss://[2001:db8::1]/")
        #expect(d.host == "2001:db8::1")
        #expect(d.port == 443)
        #expect(d.url == "wss://[2001:db8::1]/")
    }

    @Test("an IPv4 literal is an IP literal; a name is not")
    func ipv4() throws {
        #expect(try Target.parse("ws://192.0.2.1/").isIPLiteral)
        #expect(try !Target.parse("ws://example.com/").isIPLiteral)
    }

    @Test("user info is kept apart and never in url")
    func userInfo() throws {
        let t = try Target.parse("wss://alice:s3cret@example.com/ws")
        #expect(t.userInfo == "alice:s3cret")
        #expect(t.host == "example.com")
        #expect(t.url == "wss://example.com/ws")
        #expect(!t.url.contains("s3cret"))
    }

    @Test("the fragment is dropped, the query kept")
    func fragmentAndQuery() throws {
        let t = try Target.parse("wss://example.com/ws?token=abc&room=1#section")
        #expect(t.path == "/ws?token=abc&room=1")
        #expect(t.pathOnly == "/ws")
        #expect(t.url == "wss://example.com/ws?token=abc&room=1")
        #expect(try Target.parse("ws://example.com/ws#x").path == "/ws")
    }

    @Test("a trailing dot on the host is removed")
    func trailingDot() throws {
        #expect(try Target.parse("ws://example.com./ws").host == "example.com")
    }

    @Test("unusable URLs are refused with the reason",
          arguments: [
              ("", Target.ParseError.empty),
              ("   ", .empty),
              ("ftp://example.com/", .unsupportedScheme("ftp")),
              ("example.com/ws", .missingScheme),
              ("ws:///ws", .missingHost),
              ("ws://:8080/ws", .missingHost),
              ("ws://example.com:0/", .badPort("0")),
              ("ws://example.com:65536/", .badPort("65536")),
              ("ws://example.com:abc/", .badPort("abc")),
              ("ws://exa mple.com/", .malformed("it contains spaces or control characters")),
              ("ws://example.com/a\u{7}b", .malformed("it contains spaces or control characters")),
              ("ws://example.com/\u{7F}", .malformed("it contains spaces or control characters")),
              ("ws://[::1/ws", .malformed("unclosed '[' in an IPv6 address")),
              ("ws://bücher.example/", .malformed("'bücher.example' is not a valid host name")),
          ] as [(String, Target.ParseError)])
    func errors(raw: String, error: Target.ParseError) {
        #expect(throws: error) { try Target.parse(raw) }
    }

    @Test("a URL over 8192 characters is refused; one at the limit is not")
    func length() throws {
        let prefix = "wss://example.com/"
        #expect(throws: Target.ParseError.tooLong) {
            try Target.parse(prefix + String(repeating: "a", count: 8193 - prefix.count))
        }
        #expect(try Target.parse(prefix + String(repeating: "a", count: 8192 - prefix.count)).path.count == 8192 - 17)
    }

    @Test("errors read as one line naming the problem")
    func errorText() {
        #expect(Target.ParseError.badPort("0").description == "'0' is not a valid port (1-65535)")
        #expect(Target.ParseError.unsupportedScheme("ftp").description.contains("ws://"))
        #expect(!Target.ParseError.missingScheme.description.contains("\n"))
    }
}

@Suite("Duration text")
struct DurationTextTests {
    @Test("durations as the command line writes them",
          arguments: [("500ms", 0.5), ("10s", 10), ("2m", 120), ("1h", 3600), ("7", 7), ("1.5s", 1.5), ("0", 0),
                      ("5M", 300), (" 20s ", 20), ("168h", 604_800)] as [(String, Double)])
    func parses(text: String, seconds: Double) throws {
        #expect(try DurationText.seconds(text) == seconds)
    }

    @Test("negative, unknown units, not a number, or over a week: refused",
          arguments: ["-1s", "abc", "5q", "nan", "inf", "", "s", "ms", "1.2.3s", "169h", "604801", "1e3s", "10 s"])
    func rejects(text: String) {
        let error = #expect(throws: DurationText.ParseError.self) { try DurationText.seconds(text) }
        #expect(error?.text == text, "the error names the text given")
    }

    @Test("the error message shows the accepted forms")
    func message() {
        let error = #expect(throws: DurationText.ParseError.self) { try DurationText.seconds("5q") }
        #expect(error?.description == "'5q' is not a duration: write it like 500ms, 10s, 2m or 1h")
    }

    @Test("short human form", arguments: [(0.85, "850ms"), (10, "10s"), (12.5, "12.5s"), (120, "2m"), (90, "1m30s"),
                                          (3600, "1h"), (5400, "1h30m")] as [(Double, String)])
    func format(seconds: Double, text: String) {
        #expect(DurationText.format(seconds: seconds) == text)
    }

    @Test("formatted durations parse back to the same value", arguments: [0.5, 10, 120, 3600] as [Double])
    func roundTrip(seconds: Double) throws {
        #expect(try DurationText.seconds(DurationText.format(seconds: seconds)) == seconds)
    }
}

@Suite("Proxy selection")
struct ProxySelectionTests {
    static let wss = Fixture.target("wss://api.example.com/ws")
    static let ws = Fixture.target("ws://api.example.com/ws")

    static func select(_ target: Target, _ env: [String: String], setting: ProxySelection.Setting = .environment)
        throws -> ProxyConfig?
    {
        try ProxySelection.select(for: target, setting: setting, environment: env)
    }

    @Test("no proxy variables: direct")
    func noProxy() throws {
        #expect(try Self.select(Self.wss, [:]) == nil)
        #expect(try Self.select(Self.wss, ["https_proxy": ""]) == nil)
    }

    @Test("wss:// uses https_proxy, ws:// uses http_proxy")
    func byScheme() throws {
        let env = ["https_proxy": "http://secure.proxy:3128", "http_proxy": "http://plain.proxy:8080"]
        let forWSS = try #require(try Self.select(Self.wss, env))
        #expect(forWSS.host == "secure.proxy")
        #expect(forWSS.port == 3128)
        #expect(forWSS.source == "https_proxy")
        let forWS = try #require(try Self.select(Self.ws, env))
        #expect(forWS.host == "plain.proxy")
        #expect(forWS.source == "http_proxy")
        #expect(try Self.select(Self.ws, ["https_proxy": "http://secure.proxy:3128"]) == nil)
    }

    @Test("lower case is read before upper case")
    func lowerFirst() throws {
        let both = try #require(try Self.select(Self.wss, ["https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2"]))
        #expect(both.host == "lower")
        let upper = try #require(try Self.select(Self.wss, ["HTTPS_PROXY": "http://upper:2"]))
        #expect(upper.host == "upper")
        #expect(upper.source == "HTTPS_PROXY")
    }

    @Test("all_proxy (then ALL_PROXY) when the scheme's variable is unset")
    func allProxy() throws {
        let lower = try #require(try Self.select(Self.ws, ["all_proxy": "http://all:3128", "ALL_PROXY": "http://ALL:1"]))
        #expect(lower.host == "all")
        #expect(lower.source == "all_proxy")
        let upper = try #require(try Self.select(Self.wss, ["ALL_PROXY": "http://every:3128"]))
        #expect(upper.source == "ALL_PROXY")
        let scheme = try #require(try Self.select(Self.wss, ["ALL_PROXY": "http://every:3128", "HTTPS_PROXY": "http://s:1"]))
        #expect(scheme.host == "s")
    }

    @Test("NO_PROXY bypasses matching hosts",
          arguments: [
              ("api.example.com", "api.example.com"), ("example.com", "api.example.com"),
              (".example.com", "api.example.com"), (".example.com", "example.com"), ("*", "api.example.com"),
              ("other.org, example.com", "api.example.com"), ("other.org example.com", "api.example.com"),
              ("example.com:8443", "api.example.com"), ("EXAMPLE.COM", "api.example.com"),
              ("10.0.0.0/8", "10.1.2.3"), ("192.0.2.7", "192.0.2.7"), ("::1", "::1"), ("[::1]", "::1"),
              ("fd00::/8", "fd12::1"),
          ] as [(String, String)])
    func bypasses(noProxy: String, host: String) {
        #expect(ProxySelection.bypasses(host: host, noProxy: noProxy))
    }

    @Test("NO_PROXY does not bypass hosts that merely end with the same letters, or other networks",
          arguments: [
              ("example.com", "notexample.com"), ("api.example.com", "example.com"), ("10.0.0.0/8", "11.0.0.1"),
              ("fd00::/8", "fe80::1"), ("", "api.example.com"), ("192.0.2.7", "192.0.2.70"),
          ] as [(String, String)])
    func doesNotBypass(noProxy: String, host: String) {
        #expect(!ProxySelection.bypasses(host: host, noProxy: noProxy))
    }

    @Test("no_proxy (or NO_PROXY) in the environment turns the proxy off for matching hosts")
    func noProxyEnvironment() throws {
        #expect(try Self.select(Self.wss, ["https_proxy": "http://p:1", "no_proxy": "example.com"]) == nil)
        #expect(try Self.select(Self.wss, ["https_proxy": "http://p:1", "NO_PROXY": ".example.com"]) == nil)
        #expect(try Self.select(Self.wss, ["https_proxy": "http://p:1", "NO_PROXY": "other.org"]) != nil)
    }

    @Test("--proxy wins over the environment; --no-proxy disables it")
    func explicitAndNone() throws {
        let env = ["https_proxy": "http://env:1", "ALL_PROXY": "http://all:2"]
        let explicit = try #require(try Self.select(Self.wss, env, setting: .explicit("http://flag.proxy:8888")))
        #expect(explicit.host == "flag.proxy")
        #expect(explicit.port == 8888)
        #expect(explicit.source == "--proxy")
        #expect(try Self.select(Self.wss, env, setting: .none) == nil)
    }

    @Test("credentials are percent-decoded and kept out of the display URL")
    func credentials() throws {
        let p = try ProxySelection.parse("http://us%40er:p%3Ass@Proxy.Corp:3128/", source: "--proxy")
        #expect(p.credentials == "us@er:p:ss")
        #expect(p.host == "proxy.corp")
        #expect(p.port == 3128)
        #expect(p.displayURL == "http://proxy.corp:3128")
    }

    @Test("a proxy without a port uses curl's default, 1080; no scheme means http")
    func defaultPort() throws {
        #expect(try ProxySelection.parse("http://proxy.corp", source: "x").port == 1080)
        let bare = try ProxySelection.parse("proxy.corp:8080", source: "x")
        #expect(bare.host == "proxy.corp")
        #expect(bare.port == 8080)
    }

    @Test("an IPv6 proxy in brackets")
    func ipv6Proxy() throws {
        let p = try ProxySelection.parse("http://[2001:db8::5]:3128", source: "x")
        #expect(p.host == "2001:db8::5")
        #expect(p.port == 3128)
        #expect(p.displayURL == "http://[2001:db8::5]:3128")
        #expect(try ProxySelection.parse("http://[::1]", source: "x").port == 1080)
    }

    @Test("unsupported schemes and bad ports are refused, naming where the value came from",
          arguments: ["socks5://proxy:1080", "https://proxy:443", "http://proxy:0", "http://proxy:65536",
                      "http://proxy:abc", "http://[::1]:x", "http://:3128"])
    func parseErrors(raw: String) {
        let error = #expect(throws: ProxySelection.ParseError.self) { try ProxySelection.parse(raw, source: "HTTPS_PROXY") }
        #expect(error?.description.hasPrefix("HTTPS_PROXY:") == true)
    }

    @Test("the socks5 error names the scheme")
    func socksMessage() {
        let error = #expect(throws: ProxySelection.ParseError.self) {
            try Self.select(Self.wss, ["https_proxy": "socks5://proxy:1080"])
        }
        #expect(error?.description.contains("socks5") == true)
    }
}
