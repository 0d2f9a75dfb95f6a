import Testing

@testable import CertkeeperConfig

/// `metrics_listen` and `metrics_textfile` in [defaults]: an IP address and port, an absolute path; anything else
/// is a `check` error at FILE:LINE:COLUMN.
@Suite struct MetricsConfigTests {
    static func load(_ main: String) -> (defaults: DaemonDefaults?, diagnostics: [String]) {
        let result = ConfigLoader(environment: [:]).load(
            mainTOML: "[defaults]\nca = \"letsencrypt\"\n" + main, specs: [], configDirectory: "/etc/ck")
        return (result.configuration?.defaults, result.allDiagnostics.map(\.description))
    }

    @Test func ipv4AndIPv6EndpointsAndATextfileAreAccepted() {
        let v4 = Self.load("metrics_listen = \"127.0.0.1:9712\"\nmetrics_textfile = \"/var/lib/node/ck.prom\"\n")
        #expect(v4.diagnostics.isEmpty, "\(v4.diagnostics)")
        #expect(v4.defaults?.metricsListen == ListenEndpoint(host: "127.0.0.1", port: 9712))
        #expect(v4.defaults?.metricsTextfile == "/var/lib/node/ck.prom")
        let v6 = Self.load("metrics_listen = \"[::1]:9712\"\n")
        #expect(v6.defaults?.metricsListen == ListenEndpoint(host: "::1", port: 9712))
        #expect(v6.defaults?.metricsListen?.description == "[::1]:9712")
        let none = Self.load("")
        #expect(none.defaults?.metricsListen == nil && none.defaults?.metricsTextfile == nil)
    }

    @Test(arguments: [
        "localhost:9712", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:99999", "::1:9712", "http://127.0.0.1:9712",
    ])
    func aListenValueThatIsNotAnAddressAndPortIsRejected(_ value: String) {
        let found = Self.load("metrics_listen = \"\(value)\"\n").diagnostics
        #expect(found.count == 1, "\(found)")
        #expect(
            found.first?.hasPrefix("/etc/ck/certkeeper.toml:3:18: 'metrics_listen' in [defaults]") == true, "\(found)")
        #expect(found.first?.contains("e.g. \"127.0.0.1:9712\"") == true, "\(found)")
    }

    @Test func aRelativeTextfileIsRejected() {
        let found = Self.load("metrics_textfile = \"ck.prom\"\n").diagnostics
        #expect(found.count == 1, "\(found)")
        #expect(found.first?.hasPrefix("/etc/ck/certkeeper.toml:3:20: 'metrics_textfile'") == true, "\(found)")
    }
}
