import ACMEClient
import ACMEModels
import CertkeeperConfig
import DaemonControl
import Foundation
import Logging
import Renewal
import Testing

@Suite struct ProfileValidatorTests {
    @Test func rejectsOnlySpecsWhoseProfileTheCAdoesNotAdvertise() async throws {
        let h = try MaintainerHarness(profiles: ["classic": "default", "shortlived": "6 days"])
        let good = h.spec("good", profile: "shortlived")
        let none = h.spec("none")
        let bad = h.spec("bad", profile: "tlsserver")
        try "# bad\ndomains = [\"www.example.test\"]\n  profile = \"tlsserver\"\n".write(
            toFile: bad.file, atomically: true, encoding: .utf8)
        let clients = ACMEClientPool(logger: h.logs.logger, sleeper: { _ in }, makeTransport: { _ in h.server })
        let validator = ProfileValidator(clients: clients, logger: h.logs.logger)
        let rejections = await validator.rejections(for: [good, none, bad])
        #expect(Array(rejections.keys) == ["bad"])
        let diagnostic = try #require(rejections["bad"])
        #expect(diagnostic.file == bad.file)
        #expect(diagnostic.line == 3 && diagnostic.column == 13)
        #expect(diagnostic.message.contains("profile 'tlsserver' is not offered by CA 'fake' (https://ca.test/dir)"))
        #expect(diagnostic.message.contains("it offers: classic, shortlived"))
        // The directory is fetched once per CA.
        #expect(h.server.count("/dir") == 1)
    }

    @Test func aDirectoryWithoutProfilesRejectsEveryProfile() {
        let directory = ACMEDirectory(
            newNonce: "n", newAccount: "a", newOrder: "o", revokeCert: "r", keyChange: "k")
        var spec = makeSpec("www")
        spec.profile = "classic"
        let diagnostic = ProfileValidator.check(spec: spec, directory: directory)
        #expect(diagnostic?.message.contains("advertises no profiles") == true)
        #expect(diagnostic?.file == spec.file)
        spec.profile = nil
        #expect(ProfileValidator.check(spec: spec, directory: directory) == nil)
    }

    @Test func anUnreachableCARejectsNothing() async throws {
        struct Down: HTTPTransport {
            func send(_ request: HTTPRequestData) async throws -> HTTPResponseData {
                throw HTTPTransportError(kind: .connectionRefused, url: request.url, message: "refused")
            }
        }
        let logs = LogCapture()
        let clients = ACMEClientPool(logger: logs.logger, sleeper: { _ in }, makeTransport: { _ in Down() })
        var spec = makeSpec("www")
        spec.profile = "classic"
        let rejections = await ProfileValidator(clients: clients, logger: logs.logger).rejections(for: [spec])
        #expect(rejections.isEmpty)
        #expect(logs.contains("cannot fetch the directory"))
    }

    @Test func rejectedEditKeepsTheLastGoodVersionAndRejectedNewSpecDoesNotStart() {
        let old = makeSpec("www")
        var edited = old
        edited.profile = "tlsserver"
        var fresh = makeSpec("api")
        fresh.profile = "tlsserver"
        let previous = configuration([old])
        let loaded = configuration([edited, fresh])
        let merged = ConfigMerge.merge(
            previous: previous,
            result: ConfigLoadResult(configuration: loaded, globalDiagnostics: [], specDiagnostics: [:]))!
        #expect(merged.changed == ["www"] && merged.added == ["api"] && !merged.failed)
        let rejections = [
            "www": ConfigDiagnostic(file: old.file, line: 4, column: 11, message: "profile 'tlsserver' is not offered"),
            "api": ConfigDiagnostic(
                file: fresh.file, line: 4, column: 11, message: "profile 'tlsserver' is not offered"),
        ]
        let outcome = ConfigMerge.rejecting(rejections, in: merged, previous: previous)
        #expect(outcome.failed)
        #expect(outcome.configuration.certificates["www"] == old)
        #expect(outcome.configuration.certificates["api"] == nil)
        #expect(outcome.keptLastGood == ["www"] && outcome.rejectedNew == ["api"])
        #expect(outcome.added.isEmpty && outcome.changed.isEmpty)
        #expect(outcome.diagnostics.map(\.file) == [fresh.file, old.file])

        // At start-up there is nothing to fall back to.
        let initial = ConfigMerge.rejecting(
            ["api": rejections["api"]!], in: ConfigMerge.initial(loaded), previous: nil)
        #expect(Array(initial.configuration.certificates.keys) == ["www"])
        #expect(initial.rejectedNew == ["api"] && initial.failed)
    }

    private func configuration(_ specs: [CertificateSpec]) -> Configuration {
        Configuration(
            configDirectory: "/etc/certkeeper", defaults: DaemonDefaults(), cas: [:], accounts: [:],
            certificates: Dictionary(uniqueKeysWithValues: specs.map { ($0.name, $0) }))
    }
}
