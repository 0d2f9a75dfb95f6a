import Foundation
import Testing

@testable import CertkeeperConfig

/// `provider = "powerdns"`, `"route53"` and `"cloudflare"` in a spec's `[challenge]`.
@Suite final class DNSProviderConfigTests {
    /// A directory with readable secret files (the parser checks that a `*_file` can be opened).
    let directory: String
    var keyFile: String { directory + "/pdns.key" }
    var awsKeyIDFile: String { directory + "/aws-key-id" }
    var awsSecretFile: String { directory + "/aws-secret" }

    init() throws {
        directory =
            FileManager.default.temporaryDirectory
            .appendingPathComponent("dns-provider-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: false)
        for file in ["/pdns.key", "/aws-key-id", "/aws-secret"] {
            try Data("never-read-\(file)\n".utf8).write(to: URL(fileURLWithPath: directory + file))
        }
    }

    deinit { try? FileManager.default.removeItem(atPath: directory) }

    /// One spec `x.toml` whose `[challenge]` (line 3, `type` on line 4) holds `challenge` from line 5 on.
    func load(_ challenge: String) -> ConfigLoadResult {
        let spec = """
            domains = ["example.com", "*.example.com"]
            ca = "https://127.0.0.1:14000/dir"
            [challenge]
            type = "dns-01"

            """ + challenge
        return ConfigLoader(environment: [:]).load(
            mainTOML: nil, specs: [(fileName: "x.toml", text: spec)], configDirectory: "/etc/ck")
    }

    func solver(_ challenge: String) throws -> SolverSpec {
        let result = load(challenge)
        #expect(result.allDiagnostics == [])
        return try #require(result.configuration?.certificates["x"]?.challenge.defaultSolver)
    }

    /// `LINE:COLUMN message` of every diagnostic, all in certs.d/x.toml.
    func diagnostics(_ challenge: String) -> [String] {
        let result = load(challenge)
        #expect(result.configuration?.certificates["x"] == nil)
        #expect(result.allDiagnostics.allSatisfy { $0.file == "/etc/ck/certs.d/x.toml" })
        return result.allDiagnostics.map { "\($0.line):\($0.column) \($0.message)" }
    }

    @Test func powerDNSParses() throws {
        let spec = try solver(
            """
            provider = "powerdns"
            api_url = "http://127.0.0.1:8081/"
            server_id = "ns-primary"
            api_key_file = "\(keyFile)"
            zone = "Example.com."
            propagation_servers = ["127.0.0.1:5353"]
            propagation_timeout = "0s"
            """)
        #expect(
            spec
                == .dns01Provider(
                    .powerDNS(
                        PowerDNSSettings(
                            apiURL: "http://127.0.0.1:8081", serverID: "ns-primary", apiKey: .file(keyFile),
                            zone: "example.com")),
                    PropagationSettings(servers: ["127.0.0.1:5353"], timeoutSeconds: 0)))

        let minimal = try solver(
            "provider = \"powerdns\"\napi_url = \"https://ns1.example.com:8081\"\napi_key_credential = \"pdns\"\n")
        #expect(
            minimal
                == .dns01Provider(
                    .powerDNS(PowerDNSSettings(apiURL: "https://ns1.example.com:8081", apiKey: .credential("pdns"))),
                    PropagationSettings()))
    }

    @Test func route53Parses() throws {
        let spec = try solver(
            """
            provider = "route53"
            hosted_zone_id = "/hostedzone/Z0123456789ABCDEFGHIJ"
            region = "eu-west-1"
            access_key_id_file = "\(awsKeyIDFile)"
            secret_access_key_credential = "aws-secret"
            """)
        #expect(
            spec
                == .dns01Provider(
                    .route53(
                        Route53Settings(
                            hostedZoneID: "Z0123456789ABCDEFGHIJ", region: "eu-west-1",
                            accessKeyID: .file(awsKeyIDFile), secretAccessKey: .credential("aws-secret"))),
                    PropagationSettings()))

        // No keys: the AWS_* environment variables at run time.
        #expect(try solver("provider = \"route53\"\n") == .dns01Provider(.route53(Route53Settings()), .init()))
    }

    @Test func cloudflareParses() throws {
        let spec = try solver(
            """
            provider = "cloudflare"
            zone_id = "023e105f4ecef8ad9ca31a8372d0c353"
            api_token_credential = "cf-token"
            propagation_timeout = "90s"
            """)
        #expect(
            spec
                == .dns01Provider(
                    .cloudflare(
                        CloudflareSettings(
                            apiToken: .credential("cf-token"), zoneID: "023e105f4ecef8ad9ca31a8372d0c353",
                            apiURL: "https://api.cloudflare.com/client/v4")),
                    PropagationSettings(timeoutSeconds: 90)))
    }

    @Test func powerDNSNeedsAnAPIURL() {
        let found = diagnostics("provider = \"powerdns\"\napi_key_credential = \"pdns\"\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("3:") == true, "reported at [challenge]: \(found)")
        #expect(
            found.first?.contains("provider = \"powerdns\" in [challenge] needs api_url = \"http://127.0.0.1:8081\"")
                == true)
    }

    @Test func plainHTTPOnlyToALoopbackAddress() throws {
        let refused = diagnostics(
            "provider = \"powerdns\"\napi_url = \"http://ns1.example.com:8081\"\napi_key_credential = \"pdns\"\n")
        #expect(refused.count == 1, "\(refused)")
        #expect(refused.first?.hasPrefix("6:11 'api_url' in [challenge] must use https://") == true, "\(refused)")

        for url in ["http://127.0.0.1:8081", "http://localhost:8081", "http://[::1]:8081", "https://ns1.example.com"] {
            let spec = try solver(
                "provider = \"powerdns\"\napi_url = \"\(url)\"\napi_key_credential = \"pdns\"\n")
            guard case .dns01Provider(.powerDNS(let settings), _) = spec else {
                Issue.record("\(url): \(spec)")
                continue
            }
            #expect(settings.apiURL == url)
        }

        let withCredentials = diagnostics(
            "provider = \"cloudflare\"\napi_url = \"https://user:pw@api.example.com\"\napi_token_credential = \"t\"\n")
        #expect(withCredentials.count == 1)
        #expect(withCredentials.first?.hasPrefix("6:11 'api_url' in [challenge] must be a URL like") == true)
    }

    @Test func aHostNameThatOnlyStartsWith127IsNotLoopback() {
        // 127.0.0.1.attacker.example is a DNS name that can point anywhere: the API key would cross the network in
        // clear text. Only an address in 127.0.0.0/8, ::1 or localhost is loopback.
        let found = diagnostics(
            "provider = \"powerdns\"\napi_url = \"http://127.0.0.1.attacker.example:8081\"\n"
                + "api_key_credential = \"pdns\"\n")
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.contains("must use https://") == true, "\(found)")
        for loopback in [
            "http://127.0.0.1:8081", "http://127.9.8.7:8081", "http://[::1]:8081", "http://localhost:8081",
        ] {
            let accepted = load(
                "provider = \"powerdns\"\napi_url = \"\(loopback)\"\napi_key_credential = \"pdns\"\n")
            #expect(accepted.allDiagnostics.isEmpty, "\(loopback): \(accepted.allDiagnostics)")
        }
    }

    @Test func aMissingSecretFileIsReportedAtItsValue() {
        let missing = directory + "/absent.key"
        let found = diagnostics(
            "provider = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key_file = \"\(missing)\"\n")
        #expect(
            found == [
                "7:16 'api_key_file' in [challenge]: \(missing) does not exist; create it (mode 0600) or fix the path"
            ])

        let directoryAsFile = diagnostics(
            "provider = \"cloudflare\"\napi_token_file = \"\(directory)\"\n")
        #expect(directoryAsFile == ["6:18 'api_token_file' in [challenge]: \(directory) is not a regular file"])
    }

    @Test func route53KeyIDNeedsItsSecretAndTheOtherWayRound() {
        let keyOnly = diagnostics("provider = \"route53\"\naccess_key_id_file = \"\(awsKeyIDFile)\"\n")
        #expect(keyOnly.count == 1, "\(keyOnly)")
        #expect(keyOnly.first?.hasPrefix("6:1 'access_key_id_file' in [challenge] needs its secret") == true)

        let secretOnly = diagnostics(
            "provider = \"route53\"\nregion = \"us-east-1\"\nsecret_access_key_file = \"\(awsSecretFile)\"\n")
        #expect(secretOnly.count == 1, "\(secretOnly)")
        #expect(secretOnly.first?.hasPrefix("7:1 'secret_access_key_file' in [challenge] needs the key's id") == true)
    }

    @Test func keysOfAnotherProviderAreRefused() {
        let found = diagnostics(
            """
            provider = "cloudflare"
            api_token_credential = "cf"
            server = "127.0.0.1"
            api_key_file = "\(keyFile)"
            """)
        #expect(
            found == [
                "7:1 'server' in [challenge] does not apply to type = \"dns-01\" with provider = \"cloudflare\"; remove it",
                "8:1 'api_key_file' in [challenge] does not apply to type = \"dns-01\" with provider = \"cloudflare\"; remove it",
            ])

        let zoneForRoute53 = diagnostics("provider = \"route53\"\nzone = \"example.com\"\n")
        #expect(
            zoneForRoute53 == [
                "6:1 'zone' in [challenge] does not apply to type = \"dns-01\" with provider = \"route53\"; remove it"
            ])
    }

    @Test func aMisspelledProviderSuggestsTheClosest() {
        for (typo, meant) in [("powerdsn", "powerdns"), ("cloudfare", "cloudflare"), ("route35", "route53")] {
            let found = diagnostics("provider = \"\(typo)\"\n")
            #expect(found.count == 1, "\(found)")
            #expect(found.first?.hasPrefix("5:12 'provider' in [challenge] is '\(typo)'") == true, "\(found)")
            #expect(found.first?.hasSuffix("(did you mean '\(meant)'?)") == true, "\(found)")
        }
    }

    @Test func badValuesAreReportedAtTheirValues() {
        let found = diagnostics(
            """
            provider = "route53"
            hosted_zone_id = "Z 1"
            region = "US East"
            """)
        #expect(found.count == 2, "\(found)")
        #expect(
            found.contains { $0.hasPrefix("6:18 'hosted_zone_id' in [challenge] must be a Route 53 hosted zone ID") })
        #expect(found.contains { $0.hasPrefix("7:10 'region' in [challenge] must be an AWS region") })
    }
}
