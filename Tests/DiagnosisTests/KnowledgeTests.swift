import Testing

@testable import Diagnosis

@Suite("Knowledge base")
struct KnowledgeTests {
    // MARK: Cause texts

    @Test("every cause has a real title, summary and 2-5 fixes", arguments: CauseID.allCases)
    func causeTexts(id: CauseID) {
        let entry = CauseCatalogue.entry(id)
        #expect(!entry.title.isEmpty && entry.title != id.rawValue)
        #expect(!entry.summary.isEmpty && entry.summary != id.rawValue && entry.summary != entry.title)
        #expect((2...5).contains(entry.fixes.count), "\(id.rawValue) has \(entry.fixes.count) fixes")
        #expect(entry.fixes.allSatisfy { !$0.isEmpty && $0 != id.rawValue })
        #expect(Set(entry.fixes).count == entry.fixes.count, "duplicate fix in \(id.rawValue)")
    }

    @Test func titlesAreDistinct() {
        let titles = CauseID.allCases.map { CauseCatalogue.entry($0).title }
        #expect(Set(titles).count == titles.count)
    }

    @Test func deploymentSpecificFixes() {
        let stripped = CauseCatalogue.entry(.upgradeHeadersStripped).fixes.joined(separator: "\n")
        #expect(stripped.contains("proxy_http_version 1.1"))
        #expect(stripped.contains("proxy_set_header Upgrade $http_upgrade"))
        #expect(stripped.contains("proxy_set_header Connection \"upgrade\""))
        #expect(CauseCatalogue.entry(.middlewareBlocksUpgrade).fixes.joined().contains("http.Hijacker"))
        #expect(CauseCatalogue.entry(.tlsIncompleteChain).fixes.joined().contains("fullchain.pem"))
        let idle = CauseCatalogue.entry(.idleTimeout).fixes.joined()
        #expect(idle.contains("idle_timeout.timeout_seconds") && idle.contains("100 s"))
        #expect(CauseCatalogue.entry(.proxyConnectDenied).summary.contains("CONNECT"))
    }

    @Test func catalogueCauseMergesRuleFixesFirst() {
        let cause = CauseCatalogue.cause(.idleTimeout, fixes: ["ping every 45 s"], evidence: ["cut after 60 s"])
        #expect(cause.fixes.first == "ping every 45 s")
        #expect(cause.fixes.count == 1 + CauseCatalogue.entry(.idleTimeout).fixes.count)
        #expect(cause.title == CauseCatalogue.entry(.idleTimeout).title)
    }

    // MARK: Close codes

    @Test("every code 1000-1015 has its own entry", arguments: 1000...1015)
    func registeredCloseCodes(code: Int) throws {
        let info = try #require(CloseCodes.info(code))
        #expect(info.code == code)
        #expect(info.range == code...code)
        #expect(!info.isRange)
        #expect(!info.name.isEmpty && !info.meaning.isEmpty && !info.sentBy.isEmpty)
        #expect(!info.causes.isEmpty && !info.fixes.isEmpty)
        #expect(info.onWire == CloseCodes.isValidOnWire(code))
    }

    @Test func localOnlyCodesSaySo() throws {
        for code in [1005, 1006, 1015] {
            let info = try #require(CloseCodes.info(code))
            #expect(!info.onWire)
            #expect(info.sentBy.hasPrefix("never sent"))
            #expect(info.meaning.contains("never appears on the wire"))
        }
        let abnormal = try #require(CloseCodes.info(1006)).causes.joined(separator: " ")
        #expect(abnormal.contains("proxy") && abnormal.contains("TLS") && abnormal.contains("crash"))
        #expect(try #require(CloseCodes.info(1006)).fixes.joined().contains("--idle 120s"))
        #expect(try #require(CloseCodes.info(1004)).onWire == false)
    }

    @Test func onWireValidityFollowsRFC6455() {
        for code in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] {
            #expect(CloseCodes.isValidOnWire(code), "\(code) should be valid")
        }
        for code in [-1, 0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535, 99999] {
            #expect(!CloseCodes.isValidOnWire(code), "\(code) should be invalid")
        }
    }

    @Test func rangesAndInvalidCodes() throws {
        let reserved = try #require(CloseCodes.info(2000))
        #expect(reserved.range == 1016...2999 && reserved.code == 2000 && !reserved.onWire)

        let library = try #require(CloseCodes.info(3500))
        #expect(library.range == 3000...3999 && library.onWire)
        #expect(library.meaning.contains("3000") && library.meaning.contains("3003") && library.meaning.contains("3008"))
        #expect(try #require(CloseCodes.info(3008)).name == "Timeout")

        let app = try #require(CloseCodes.info(4242))
        #expect(app.range == 4000...4999 && app.onWire && app.code == 4242)
        for code in ["4400", "4401", "4408", "4429"] { #expect(app.meaning.contains(code)) }
        #expect(try #require(CloseCodes.info(4408)).name == "Pong overdue")

        for code in [0, 500, 999, 5000, 65535] {
            let invalid = try #require(CloseCodes.info(code))
            #expect(invalid.name == "Invalid close code" && !invalid.onWire && invalid.code == code)
        }
        #expect(CloseCodes.info(-1) == nil)
        #expect(CloseCodes.info(65536) == nil)
        #expect(CloseCodes.info(99999) == nil)
    }

    @Test func allIsOrderedAndCoversEveryRange() {
        let all = CloseCodes.all
        #expect(all.map(\.range.lowerBound) == all.map(\.range.lowerBound).sorted())
        for code in [0, 1000, 1015, 1016, 3000, 4000, 4429, 5000] {
            #expect(all.contains { $0.range.contains(code) }, "\(code) not covered")
        }
        #expect(Set(all.filter { !$0.isRange }.map(\.code)).isSuperset(of: Set(1000...1015)))
    }

    // MARK: Upgrade statuses

    @Test func statusesCoverTheCommonAnswers() throws {
        let expected = [101, 200, 301, 302, 307, 308, 400, 401, 403, 404, 405, 407, 426, 429, 500, 502, 503, 504]
        #expect(UpgradeStatuses.all.map(\.status) == expected)
        for info in UpgradeStatuses.all {
            #expect(!info.name.isEmpty && !info.meaning.isEmpty && !info.sentBy.isEmpty)
            #expect(!info.causes.isEmpty && !info.fixes.isEmpty)
        }
        #expect(UpgradeStatuses.info(101)?.causeID == nil)
        #expect(UpgradeStatuses.info(200)?.causeID == .upgradeIgnored)
        #expect(UpgradeStatuses.info(308)?.causeID == .redirect)
        #expect(UpgradeStatuses.info(404)?.causeID == .routeNotFound)
        #expect(UpgradeStatuses.info(407)?.causeID == .proxyAuthRequired)
        #expect(UpgradeStatuses.info(426)?.causeID == .upgradeHeadersStripped)
        #expect(UpgradeStatuses.info(502)?.causeID == .badGateway)
        #expect(UpgradeStatuses.info(504)?.causeID == .badGateway)
        #expect(UpgradeStatuses.info(503)?.causeID == .serviceUnavailable)
        #expect(try #require(UpgradeStatuses.info(500)).causes.joined().contains("http.Hijacker"))
        #expect(UpgradeStatuses.info(418) == nil)
    }

    @Test func describeFallsBackPerClass() {
        #expect(UpgradeStatuses.describe(426) == UpgradeStatuses.info(426))
        #expect(UpgradeStatuses.describe(204).causeID == .upgradeIgnored)
        #expect(UpgradeStatuses.describe(303).causeID == .redirect)
        #expect(UpgradeStatuses.describe(418).causeID == .handshakeRejected)
        #expect(UpgradeStatuses.describe(599).causeID == .serverError)
        #expect(UpgradeStatuses.describe(150).status == 150)
        #expect(UpgradeStatuses.describe(700).name == "Invalid HTTP status")
    }

    // MARK: Fingerprints

    @Test func cloudflare() throws {
        let found = ServerFingerprints.identify(headers: [
            ("Date", "Sat, 21 Nov 2026 10:00:00 GMT"), ("Server", "cloudflare"), ("CF-RAY", "8c1d2e3f4a5b6c7d-FRA"),
            ("cf-cache-status", "DYNAMIC"),
        ])
        #expect(found.count == 1)
        let cf = try #require(found.first)
        #expect(cf.name == "Cloudflare" && cf.kind == .cdn)
        #expect(cf.evidence.contains("Server: cloudflare") && cf.evidence.contains("CF-RAY: 8c1d2e3f4a5b6c7d-FRA"))
        #expect(cf.websocketConfigHint.contains("100 s"))
    }

    @Test func awsLoadBalancer() throws {
        let found = ServerFingerprints.identify(headers: [("server", "awselb/2.0"), ("content-type", "text/html")])
        let alb = try #require(found.first)
        #expect(found.count == 1 && alb.name == "AWS ALB/ELB" && alb.kind == .loadBalancer)
        #expect(alb.evidence == "server: awselb/2.0")
        #expect(alb.websocketConfigHint.contains("idle_timeout.timeout_seconds"))
    }

    @Test func googleVia() throws {
        let found = ServerFingerprints.identify(headers: [("Via", "1.1 google"), ("Alt-Svc", "h3=\":443\"; ma=2592000")])
        #expect(found.map(\.name) == ["Google Frontend"])
        #expect(try #require(found.first).websocketConfigHint.contains("--timeout=3600"))
    }

    @Test func nginx() throws {
        let found = ServerFingerprints.identify(headers: [("Server", "nginx/1.22.1")])
        let nginx = try #require(found.first)
        #expect(found.count == 1 && nginx.name == "nginx" && nginx.kind == .reverseProxy)
        #expect(nginx.evidence == "Server: nginx/1.22.1")
        #expect(nginx.websocketConfigHint.contains("proxy_http_version 1.1"))
        #expect(nginx.websocketConfigHint.contains("proxy_set_header Upgrade $http_upgrade"))
        #expect(nginx.websocketConfigHint.contains("proxy_set_header Connection \"upgrade\""))
    }

    @Test func layeredPathInOrderOfAppearance() {
        let found = ServerFingerprints.identify(headers: [
            ("Server", "AmazonS3"),
            ("X-Cache", "Miss from cloudfront"),
            ("Via", "1.1 2f1b9e0d.cloudfront.net (CloudFront), 1.1 varnish (Varnish/7.1)"),
            ("X-Amz-Cf-Pop", "FRA56-P1"),
            ("X-Amz-Cf-Id", "abc=="),
        ])
        #expect(found.map(\.name) == ["Amazon S3", "Amazon CloudFront", "Varnish"])
        #expect(found.first { $0.name == "Amazon CloudFront" }?.evidence.contains("X-Amz-Cf-Id: abc==") == true)
    }

    @Test func moreProducts() {
        func names(_ headers: [(String, String)]) -> [String] { ServerFingerprints.identify(headers: headers).map(\.name) }
        #expect(names([("Via", "1.1 vegur")]) == ["Heroku router"])
        #expect(names([("x-envoy-upstream-service-time", "3"), ("server", "istio-envoy")]) == ["Envoy"])
        #expect(names([("X-Served-By", "cache-fra-eddf8230123-FRA"), ("Via", "1.1 varnish"), ("X-Cache", "MISS")]) == ["Fastly"])
        #expect(names([("server", "Vercel"), ("x-vercel-id", "fra1::iad1::abc")]) == ["Vercel"])
        #expect(names([("fly-request-id", "01HXYZ-fra"), ("server", "Fly/6f0ae09c (2024-05-01)")]) == ["Fly.io"])
        #expect(names([("Server", "Microsoft-IIS/10.0"), ("X-Powered-By", "ASP.NET")]) == ["Microsoft IIS", "ASP.NET"])
        #expect(names([("server", "uvicorn")]) == ["gunicorn/uvicorn"])
        #expect(names([("Server", "Apache/2.4.57 (Debian)")]) == ["Apache httpd"])
        #expect(names([("Via", "kong/3.4.0"), ("X-Kong-Upstream-Latency", "2")]) == ["Kong"])
        #expect(names([("Server", "squid/5.7"), ("Via", "1.1 proxy.corp (squid/5.7)")]) == ["Squid"])
        #expect(names([("X-Powered-By", "Express")]) == ["Express"])
        #expect(names([("Content-Type", "text/html")]).isEmpty)
        #expect(names([]).isEmpty)
        let odd = ServerFingerprints.identify(headers: [("Via", "1.0 fred, 1.1 p.example.net")])
        #expect(odd.map(\.kind) == [.unidentified, .unidentified])
        #expect(odd.first?.name == "Unidentified proxy (fred)")
    }

    @Test func weirdValuesNeverCrash() {
        let long = String(repeating: "x", count: 10_000)
        let found = ServerFingerprints.identify(headers: [
            ("", ""), ("Via", ""), ("Via", ",,,"), ("Via", "   "), ("VIA", "1.1"), ("Server", "\u{0}\u{7}nginx\r\n"),
            ("Server", long), ("Via", long), ("X-Served-By", "😀"), ("sErVeR", "NGINX"), ("Alt-Svc", "quic=\":443\""),
        ])
        #expect(found.first?.name == "nginx")
        #expect(found.filter { $0.name == "nginx" }.count == 1)
        #expect(found.allSatisfy { $0.evidence.count < 2_000 })
        #expect(found.allSatisfy { !$0.evidence.unicodeScalars.contains { $0.value < 0x20 } })
        #expect(found.contains { $0.name == "Google Frontend" })
    }

    // MARK: Idle timeouts

    @Test func idleTimeoutMatching() {
        let at60 = PlatformIdleTimeouts.matches(measuredSeconds: 60.3).map(\.name)
        #expect(at60.contains { $0.hasPrefix("nginx") })
        #expect(at60.contains { $0.hasPrefix("AWS Application Load Balancer") })
        #expect(!at60.contains { $0.hasPrefix("Heroku") || $0.hasPrefix("Cloudflare") })

        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 99.6).map(\.name) == ["Cloudflare"])
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 30).map(\.name).first?.hasPrefix("Google Cloud load balancer") == true)
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 30).first?.resetsOnTraffic == false)
        let at55 = PlatformIdleTimeouts.matches(measuredSeconds: 55).map(\.name)
        #expect(at55 == ["Heroku router"])
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 50.9).first?.name.hasPrefix("HAProxy") == true)
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 17).isEmpty)
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: .nan).isEmpty)
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: -60).isEmpty)
    }

    @Test func toleranceIsTwoSecondsOrFivePercent() {
        #expect(PlatformIdleTimeouts.tolerance(for: 30) == 2)
        #expect(PlatformIdleTimeouts.tolerance(for: 100) == 5)
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 104.9).map(\.name) == ["Cloudflare"])
        #expect(PlatformIdleTimeouts.matches(measuredSeconds: 105.1).isEmpty)
        #expect(!PlatformIdleTimeouts.matches(measuredSeconds: 32.5).contains { $0.name.hasPrefix("Google") })
    }

    @Test("recommended ping is comfortably below the timeout", arguments: [1.5, 5, 30, 50, 55, 60, 60.3, 99.6, 100, 240, 3600])
    func recommendedPing(idle: Double) {
        let ping = PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: idle)
        #expect(ping >= 1 && ping < idle)
        #expect(ping == ping.rounded())
        if idle >= 8 { #expect(ping <= idle * 0.75) }
    }

    @Test func recommendedPingExamples() {
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: 60) == 45)
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: 55) == 41)
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: 100) == 75)
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: 30) == 22)
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: 0) == 1)
        #expect(PlatformIdleTimeouts.recommendedPingInterval(forIdleSeconds: .infinity) == 1)
    }
}
