import Foundation
import Testing
@testable import RealtimeCore

@Suite("Diagnostics report bodies (pure)")
struct DiagnosticsReportBodyTests {
    func object(_ json: JSONText) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
    }

    @Test func credentialsAreDroppedAtAnyDepthAndTheRestKept() throws {
        let text = #"""
        {"Authorization":"Bearer abc","cookie":"s=1","verdict":"ok","n":3,"ok":true,"none":null,
         "request":{"headers":{"Proxy-Authorization":"Basic x","Set-Cookie":"a","X-API-Key":"k","Origin":"https://a.example"},
                    "access_token":"t"},
         "attempts":[{"password":"p","status":101,"tokenPresent":true}]}
        """#
        let (json, dropped) = try DiagnosticsReportBody.sanitize(text)
        #expect(dropped == 7)
        #expect(!json.text.lowercased().contains("bearer abc") && !json.text.contains("Basic x"))
        let o = try object(json)
        #expect(o["verdict"] as? String == "ok" && o["n"] as? Int == 3 && o["none"] is NSNull)
        #expect(json.text.contains(#""ok":true"#))  // booleans stay booleans
        let headers = try #require((o["request"] as? [String: Any])?["headers"] as? [String: Any])
        #expect(Array(headers.keys) == ["Origin"])
        let attempt = try #require((o["attempts"] as? [[String: Any]])?.first)
        #expect(attempt["status"] as? Int == 101 && attempt["tokenPresent"] != nil && attempt["password"] == nil)
    }

    @Test func credentialNamesIgnoreCaseDashesAndUnderscores() {
        for name in ["authorization", "AUTHORIZATION", "proxy_authorization", "Set-Cookie", "apiKey", "x_api_key", "Token"] {
            #expect(DiagnosticsReportBody.isCredentialName(name), "\(name)")
        }
        for name in ["author", "tokens_sent", "origin", "keyArrived", "cookieCount"] {
            #expect(!DiagnosticsReportBody.isCredentialName(name), "\(name)")
        }
    }

    @Test(arguments: [("{nope", "malformed-json"), ("", "malformed-json"), ("[1,2]", "not-an-object"), ("\"text\"", "not-an-object"), ("12", "not-an-object")])
    func refusals(text: String, code: String) {
        do {
            _ = try DiagnosticsReportBody.sanitize(text)
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.code == code)
            #expect(!error.description.isEmpty)
        }
    }
}
