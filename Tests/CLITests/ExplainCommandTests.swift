import Foundation
import Testing

/// `wsdoctor explain` run as a user would: the real binary, its exit status and output.
@Suite("wsdoctor explain")
struct ExplainCommandTests {
    @Test func abnormalClosureSaysItNeverAppearsOnTheWire() async throws {
        let r = try await WSDoctorBinary.run(["explain", "1006"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Close code 1006: Abnormal Closure"))
        #expect(r.stdout.contains("never appears on the wire"))
        #expect(r.stdout.contains("wsdoctor diagnose URL --idle 120s"))
        for section in ["Meaning", "Sent by", "Typical causes", "Fixes"] {
            #expect(r.stdout.contains("\n\(section)\n"), "missing section \(section)")
        }
        #expect(r.stderr.isEmpty)
    }

    @Test func upgradeStatus426() async throws {
        let r = try await WSDoctorBinary.run(["explain", "426"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("HTTP 426 Upgrade Required"))
        #expect(r.stdout.contains("proxy_set_header Upgrade $http_upgrade"))
        #expect(r.stdout.contains("upgrade-headers-stripped"))
    }

    @Test func listHasEveryRegisteredCloseCodeAndStatus() async throws {
        let r = try await WSDoctorBinary.run(["explain", "--list"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let lines = r.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
        for code in 1000...1015 {
            #expect(lines.contains { $0.hasPrefix("\(code) ") }, "no line for \(code)")
        }
        for status in [101, 200, 400, 403, 404, 426, 502] {
            #expect(lines.contains { $0.hasPrefix("\(status) ") }, "no line for \(status)")
        }
        #expect(lines.contains { $0.hasPrefix("4000-4999 ") })
        #expect(lines.contains { $0.hasPrefix("idle-timeout ") })
    }

    @Test func causeID() async throws {
        let r = try await WSDoctorBinary.run(["explain", "idle-timeout"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Cause idle-timeout:"))
        #expect(r.stdout.contains("Cloudflare"))
        #expect(r.stdout.contains("idle_timeout.timeout_seconds"))
    }

    @Test("garbage input: exit 64 and a one-line error", arguments: ["banana", "99999", "10e3"])
    func garbage(input: String) async throws {
        let r = try await WSDoctorBinary.run(["explain", input])
        #expect(r.status == 64)
        #expect(r.stdout.isEmpty)
        let lines = r.stderr.split(separator: "\n", omittingEmptySubsequences: true)
        #expect(lines.count == 1, "stderr: \(r.stderr)")
        #expect(r.stderr.contains("'\(input)'"))
    }

    @Test func missingArgumentIsUsageError() async throws {
        let r = try await WSDoctorBinary.run(["explain"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("--list"))
    }

    @Test func invalidCloseCodeIsExplainedAsInvalid() async throws {
        let r = try await WSDoctorBinary.run(["explain", "5000"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("Invalid close code"))
    }

    @Test("--format json parses", arguments: [["1006"], ["426"], ["idle-timeout"], ["--list"], ["4242"]])
    func json(args: [String]) async throws {
        let r = try await WSDoctorBinary.run(["explain"] + args + ["--format", "json"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        if args == ["--list"] {
            let codes = try #require(object["closeCodes"] as? [[String: Any]])
            let numbers = Set(codes.compactMap { $0["code"] as? Int })
            #expect(numbers.isSuperset(of: Set(1000...1015)))
            #expect((object["statuses"] as? [Any])?.count == 18)
        } else {
            #expect(object["kind"] is String)
        }
    }

    @Test func jsonForCloseCodeCarriesTheFacts() async throws {
        let r = try await WSDoctorBinary.run(["explain", "1006", "--format", "json"])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        #expect(object["kind"] as? String == "close-code")
        #expect(object["code"] as? Int == 1006)
        #expect(object["onWire"] as? Bool == false)
        #expect((object["fixes"] as? [String])?.isEmpty == false)
    }
}
