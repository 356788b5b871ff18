import Diagnosis
import Testing

/// RFC 6125 matching as clients apply it: what wsdoctor accepts here, real clients accept.
struct HostnameMatchTests {
    @Test func exactNamesMatchCaseInsensitively() {
        #expect(HostnameMatch.matches(host: "example.com", pattern: "example.com"))
        #expect(HostnameMatch.matches(host: "Example.COM", pattern: "example.com"))
        #expect(HostnameMatch.matches(host: "example.com.", pattern: "EXAMPLE.com"))
        #expect(!HostnameMatch.matches(host: "example.com", pattern: "example.org"))
        #expect(!HostnameMatch.matches(host: "www.example.com", pattern: "example.com"))
    }

    @Test func wildcardCoversExactlyOneLeftMostLabel() {
        #expect(HostnameMatch.matches(host: "a.example.com", pattern: "*.example.com"))
        #expect(HostnameMatch.matches(host: "WS.Example.com", pattern: "*.example.com"))
        #expect(!HostnameMatch.matches(host: "example.com", pattern: "*.example.com"))
        #expect(!HostnameMatch.matches(host: "a.b.example.com", pattern: "*.example.com"))
        #expect(!HostnameMatch.matches(host: ".example.com", pattern: "*.example.com"))
    }

    @Test func unusualWildcardsMatchNothing() {
        #expect(!HostnameMatch.matches(host: "a.example.com", pattern: "a.*.com"))
        #expect(!HostnameMatch.matches(host: "www.example.com", pattern: "w*.example.com"))
        #expect(!HostnameMatch.matches(host: "example.com", pattern: "*.com"))
        #expect(!HostnameMatch.matches(host: "a.b.example.com", pattern: "*.*.example.com"))
    }

    @Test func noCommonNameFallbackAndNoSANsMeansNoMatch() {
        #expect(!HostnameMatch.matches(host: "example.com", dnsNames: [], ipAddresses: []))
    }

    @Test func ipLiteralsMatchOnlyIPSANs() {
        #expect(HostnameMatch.matches(host: "127.0.0.1", dnsNames: [], ipAddresses: ["127.0.0.1"]))
        #expect(!HostnameMatch.matches(host: "127.0.0.1", dnsNames: ["127.0.0.1"], ipAddresses: []))
        #expect(!HostnameMatch.matches(host: "127.0.0.2", dnsNames: [], ipAddresses: ["127.0.0.1"]))
        #expect(!HostnameMatch.matches(host: "localhost", dnsNames: [], ipAddresses: ["127.0.0.1"]))
    }

    @Test func ipv6IsComparedAsAnAddress() {
        #expect(HostnameMatch.matches(host: "::1", dnsNames: [], ipAddresses: ["0:0:0:0:0:0:0:1"]))
        #expect(HostnameMatch.matches(host: "[2001:DB8::1]", dnsNames: [], ipAddresses: ["2001:db8:0:0::1"]))
        #expect(HostnameMatch.matches(host: "fe80::1%eth0", dnsNames: [], ipAddresses: ["fe80::1"]))
        #expect(HostnameMatch.matches(host: "::ffff:192.0.2.1", dnsNames: [], ipAddresses: ["::ffff:c000:201"]))
        #expect(!HostnameMatch.matches(host: "::1", dnsNames: [], ipAddresses: ["::2"]))
        #expect(!HostnameMatch.matches(host: "::1", dnsNames: [], ipAddresses: ["127.0.0.1"]))
    }

    @Test func malformedAddressesDoNotMatch() {
        #expect(!HostnameMatch.matches(host: "1:2:3", dnsNames: [], ipAddresses: ["1:2:3"]))
        #expect(!HostnameMatch.matches(host: "1::2::3", dnsNames: [], ipAddresses: ["1::2::3"]))
    }
}
