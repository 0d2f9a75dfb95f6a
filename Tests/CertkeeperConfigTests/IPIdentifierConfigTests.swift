import Testing

@testable import CertkeeperConfig

/// IP addresses in `domains` (RFC 8738): canonical form, overrides by any spelling, no dns-01, no wildcards.
@Suite struct IPIdentifierConfigTests {
    func load(_ spec: String) -> ConfigLoadResult {
        ConfigLoader(environment: [:]).load(
            mainTOML: nil, specs: [(fileName: "ip.toml", text: "ca = \"https://127.0.0.1:14000/dir\"\n" + spec)],
            configDirectory: "/etc/ck")
    }

    @Test func addressesAreKeptInCanonicalFormAndOverridesMatchAnySpelling() throws {
        let result = load(
            """
            domains = ["192.0.2.1", "0:0:0:0:0:0:0:1", "www.example.com"]
            [challenge]
            type = "http-01"
            listen = "127.0.0.1:5002"
            [challenge.domains."::0001"]
            type = "tls-alpn-01"
            listen = "[::1]:5001"
            """)
        #expect(result.allDiagnostics == [])
        let spec = try #require(result.configuration?.certificates["ip"])
        #expect(spec.domains == ["192.0.2.1", "::1", "www.example.com"])
        #expect(spec.challenge.solver(for: "::1") == .tlsALPN01(listen: "[::1]:5001"))
        #expect(spec.challenge.solver(for: "192.0.2.1") == .http01Listen(address: "127.0.0.1:5002"))
    }

    @Test func dns01AndWildcardsOfAddressesAreRefusedWhereWritten() {
        let result = load(
            """
            domains = ["192.0.2.1", "*.192.0.2.2", "192.0.2.01"]
            [challenge]
            type = "dns-01"
            provider = "exec"
            command = ["/bin/true"]
            """)
        let found = result.allDiagnostics.map { "\($0.line):\($0.column) \($0.message)" }
        #expect(found.contains { $0.hasPrefix("2:12 ") && $0.contains("dns-01 cannot validate") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("2:25 ") && $0.contains("wildcard of an IP address") }, "\(found)")
        #expect(found.contains { $0.hasPrefix("2:40 ") && $0.contains("standard form: 192.0.2.1") }, "\(found)")
        #expect(result.configuration?.certificates["ip"] == nil)
    }
}
