import Foundation
import Testing

@testable import Diagnosis

/// A report from a run where the user passed credentials every way they can, and the
/// server sent one back. None of them may survive into any rendered format.
private enum SecretFixture {
    static let bearer = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl"
    static let cookie = "cookieSecretValue77"
    static let proxyCredentials = "proxyuser:proxyPass99"
    static let proxyBasic = Data(proxyCredentials.utf8).base64EncodedString()
    static let urlToken = "tok_live_5f2a9c"
    static let urlPassword = "hunter2pass"
    static let apiKey = "ak-0123456789abcdef"
    static let serverCookie = "serverSessionXYZ42"

    static let url = "wss://alice:\(urlPassword)@example.com/ws?room=lobby&token=\(urlToken)"
    static let proxyURL = "http://\(proxyCredentials)@proxy.internal:3128"
    static let headers: [(String, String)] = [
        ("Authorization", "Bearer \(bearer)"),
        ("Cookie", "sid=\(cookie); theme=solarized-dark"),
        ("X-Api-Key", apiKey),
        ("X-Request-Id", "req-42-visible"),
    ]

    /// Everything that must never appear in output.
    static let secrets = [bearer, cookie, proxyCredentials, proxyBasic, "proxyPass99", urlToken, urlPassword, apiKey,
                          serverCookie, "solarized-dark"]

    static var redactor: Redactor { Redactor(headers: headers, url: url, proxyURL: proxyURL) }

    static var report: Report {
        var r = RenderFixtures.stripped
        r.target.url = url
        r.target.path = "/ws?room=lobby&token=\(urlToken)"
        r.transcript.request = """
            GET /ws?room=lobby&token=\(urlToken) HTTP/1.1\r
            Host: example.com\r
            Upgrade: websocket\r
            Connection: Upgrade\r
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r
            Authorization: Bearer \(bearer)\r
            Cookie: sid=\(cookie); theme=solarized-dark\r
            Proxy-Authorization: Basic \(proxyBasic)\r
            X-Api-Key: \(apiKey)\r
            X-Request-Id: req-42-visible\r
            \r

            """
        r.transcript.response = """
            HTTP/1.1 401 Unauthorized\r
            Set-Cookie: session=\(serverCookie); Path=/; HttpOnly\r
            WWW-Authenticate: Bearer realm="api", error="invalid_token"\r
            \r

            """
        r.cause.evidence.append("the server rejected the token \(bearer)")
        r.cause.data = ["status": 401, "url": .string(url), "sent": ["Authorization": .string("Bearer \(bearer)")]]
        r.cause.summary += " Proxy \(proxyURL) was used."
        r.findings.append(Report.Finding(id: "cookie-echo", severity: .info, stage: .health,
                                         message: "the health page echoed cookie \(cookie) and \(proxyCredentials)"))
        r.stages.append(.init(name: .health, status: .passed, durationMs: 3,
                              summary: "GET https://example.com/health?access_token=\(urlToken) → 200",
                              details: ["headers": [["Set-Cookie", .string("session=\(serverCookie)")]],
                                        "note": .string("key \(apiKey) accepted")]))
        r.close.reason = "bye \(cookie)"
        return r
    }
}

@Suite("Redaction")
struct RedactionTests {
    @Test("no credential survives into JSON, text or Markdown")
    func nothingLeaks() {
        let redacted = SecretFixture.redactor.redact(report: SecretFixture.report)
        let outputs = [
            "json": JSONReportRenderer.render(redacted),
            "text": TextReportRenderer(color: false).render(redacted),
            "color text": TextReportRenderer(color: true).render(redacted),
            "markdown": MarkdownReportRenderer.render(redacted),
        ]
        for (format, output) in outputs {
            for secret in SecretFixture.secrets {
                #expect(!output.contains(secret), "\(format) leaks \(secret)")
            }
            #expect(output.contains("REDACTED"), "\(format)")
            #expect(!output.contains("[REDACTED]"), "\(format): one marker spelling only")
            #expect(output.contains("example.com"), "\(format)")
        }
        let json = outputs["json"]!
        #expect(json.contains("wss://REDACTED@example.com/ws?room=lobby&token=REDACTED"))
        #expect(json.contains("Authorization: Bearer REDACTED\\r\\n"))
        #expect(json.contains("Cookie: sid=REDACTED; theme=REDACTED\\r\\n"))
        #expect(json.contains("Proxy-Authorization: Basic REDACTED\\r\\n"))
        #expect(json.contains("X-Api-Key: REDACTED\\r\\n"))
        #expect(json.contains("Set-Cookie: session=REDACTED; Path=/; HttpOnly\\r\\n"))
        // What is not a credential is untouched: it is what support needs to read.
        #expect(json.contains("X-Request-Id: req-42-visible\\r\\n"))
        #expect(json.contains("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=="))
        #expect(json.contains(#"WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\""#))
        #expect(json.contains("\"Authorization\": \"Bearer REDACTED\""))
        #expect(json.contains("http://REDACTED@proxy.internal:3128"))
        #expect(json.contains("health?access_token=REDACTED"))
    }

    @Test("the JSON stays valid and decodable after redaction")
    func stillValid() throws {
        let text = JSONReportRenderer.render(SecretFixture.redactor.redact(report: SecretFixture.report))
        let decoded = try JSONDecoder().decode(Report.self, from: Data(text.utf8))
        #expect(decoded.cause.id == "upgrade-headers-stripped")
        #expect(decoded.transcript.request?.hasSuffix("\r\n\r\n") == true)
    }

    @Test("renderers redact structurally even when the caller did not")
    func lastLineOfDefence() {
        let raw = SecretFixture.report
        for output in [JSONReportRenderer.render(raw), MarkdownReportRenderer.render(raw),
                       TextReportRenderer(color: false).render(raw)] {
            #expect(!output.contains(SecretFixture.urlToken))
            #expect(!output.contains(SecretFixture.urlPassword))
        }
        let json = JSONReportRenderer.render(raw)
        #expect(!json.contains(SecretFixture.proxyBasic))
        #expect(json.contains("Authorization: Bearer REDACTED"))
    }

    @Test("redaction is idempotent")
    func idempotent() {
        let once = SecretFixture.redactor.redact(report: SecretFixture.report)
        #expect(SecretFixture.redactor.redact(report: once) == once)
    }

    @Test("URLs: userinfo and secret parameters, structure kept", arguments: [
        ("wss://user:pass@host:8443/ws?a=1&token=abc&b=2#frag", "wss://REDACTED@host:8443/ws?a=1&token=REDACTED&b=2#frag"),
        ("wss://host/ws?ACCESS_TOKEN=x&Api_Key=y&sig=z&jwt=j&session=s&password=p&secret=q&key=k&auth=a",
         "wss://host/ws?ACCESS_TOKEN=REDACTED&Api_Key=REDACTED&sig=REDACTED&jwt=REDACTED&session=REDACTED"
            + "&password=REDACTED&secret=REDACTED&key=REDACTED&auth=REDACTED"),
        ("https://h/cb#access_token=abc&state=ok", "https://h/cb#access_token=REDACTED&state=ok"),
        ("https://h/s3?X-Amz-Signature=deadbeef&X-Amz-Date=20261121", "https://h/s3?X-Amz-Signature=REDACTED&X-Amz-Date=20261121"),
        ("/ws?token=abc", "/ws?token=REDACTED"),
        ("wss://example.com/ws?room=lobby", "wss://example.com/ws?room=lobby"),
        ("wss://example.com/ws?token=", "wss://example.com/ws?token="),
        ("wss://ghp_token@github.com/x", "wss://REDACTED@github.com/x"),
    ])
    func urls(input: String, expected: String) {
        #expect(Redactor.structural.redact(url: input) == expected)
    }

    @Test("header blocks: values of credential fields, scheme words and cookie names kept, line endings exact")
    func headerBlock() {
        let block = "GET /ws?token=abc HTTP/1.1\r\nAuthorization: Bearer abc.def\r\nproxy-authorization:Basic Zm9vOmJhcg==\r\n"
            + "Cookie: a=1; b=2\r\nX-Auth-Token: t0k3n\r\nX-Api-Key: k\r\nX-Session-Id: s1\r\nAuthorization: opaque\r\n"
            + "Origin: https://app.example.com\r\nUser-Agent: wsdoctor/0.1.0\r\n\r\n"
        let expected = "GET /ws?token=REDACTED HTTP/1.1\r\nAuthorization: Bearer REDACTED\r\n"
            + "proxy-authorization:Basic REDACTED\r\nCookie: a=REDACTED; b=REDACTED\r\nX-Auth-Token: REDACTED\r\n"
            + "X-Api-Key: REDACTED\r\nX-Session-Id: REDACTED\r\nAuthorization: REDACTED\r\n"
            + "Origin: https://app.example.com\r\nUser-Agent: wsdoctor/0.1.0\r\n\r\n"
        #expect(Redactor.structural.redact(headerBlock: block) == expected)
        #expect(Redactor.structural.redact(headerBlock: "a: b\nCookie: x=y") == "a: b\nCookie: x=REDACTED")
    }

    @Test("known secrets are replaced anywhere in text, short ones only where they have a place")
    func knownSecrets() {
        let r = Redactor(headers: [("Authorization", "Basic \(Data("bob:s3cr3tpw".utf8).base64EncodedString())"),
                                   ("X-Token", "abc"), ("Accept", "text/plain")],
                         url: "wss://h/ws?apikey=longkey123%2Fx", proxyURL: nil)
        #expect(r.redact(text: "echo: bob:s3cr3tpw and s3cr3tpw") == "echo: REDACTED and REDACTED")
        #expect(r.redact(text: "decoded longkey123/x raw longkey123%2Fx") == "decoded REDACTED raw REDACTED")
        // "abc" is too short to hunt for in prose, and "text/plain" was never a secret.
        #expect(r.redact(text: "abc text/plain") == "abc text/plain")
        #expect(!r.secrets.contains("text/plain"))
    }

    @Test("which header names count as credentials")
    func headerNames() {
        for name in ["Authorization", "Proxy-Authorization", "Cookie", "Set-Cookie", "X-Auth-Token", "X-API-Key",
                     "apikey", "X-Client-Secret", "X-Session", "Access-Token"] {
            #expect(Redactor.isCredentialHeader(name), "\(name)")
        }
        for name in ["WWW-Authenticate", "Proxy-Authenticate", "Sec-WebSocket-Key", "Sec-WebSocket-Accept", "Host",
                     "Origin", "Server", "Via", "Content-Type"] {
            #expect(!Redactor.isCredentialHeader(name), "\(name)")
        }
    }
}
