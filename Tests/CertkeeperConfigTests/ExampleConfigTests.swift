import Foundation
import Testing

@testable import CertkeeperConfig

/// The shipped example directories under etc/: one that passes, one with exactly three mistakes.
@Suite struct ExampleConfigTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().path

    @Test func shippedExampleConfigPasses() throws {
        let directory = Self.repositoryRoot + "/etc/certkeeper"
        let result = ConfigLoader(environment: [:]).load(configDirectory: directory)
        #expect(result.allDiagnostics == [])
        let config = try #require(result.configuration)
        let pebble = try #require(config.cas["pebble"])
        #expect(pebble.directoryURL == "https://127.0.0.1:14000/dir")
        #expect(pebble.trustRootsFile == "/etc/certkeeper/pebble-root.pem")
        let example = try #require(config.certificates["example"])
        #expect(example.file == directory + "/certs.d/example.toml")
        #expect(example.ca == pebble)
        #expect(example.account.contact == "mailto:ops@example.com")
        #expect(example.challenge.defaultSolver == .http01Listen(address: "127.0.0.1:5002"))
    }

    @Test func brokenExampleHasExactlyThreeMistakes() {
        let directory = Self.repositoryRoot + "/etc/examples/broken"
        let result = ConfigLoader(environment: [:]).load(configDirectory: directory)
        #expect(result.configuration == nil)
        let lines = formatDiagnostics(result.allDiagnostics).split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "\(directory)/certkeeper.toml:7:1: unknown key 'max_concurent_orders' in [defaults]; did you mean 'max_concurrent_orders'?",
                "\(directory)/certs.d/api.toml:2:7: 'key' in [top level] has unknown key type 'rsa-1024'; use one of: ecdsa-p256 | ecdsa-p384 | rsa-2048 | rsa-3072 | rsa-4096",
                "\(directory)/certs.d/www.toml:1:27: 'domains' entry '*.example.com' is a wildcard, which only dns-01 can validate, but its challenge type is http-01; add [challenge.domains.\"*.example.com\"] with type = \"dns-01\", or use dns-01 in [challenge]",
            ])
    }
}
