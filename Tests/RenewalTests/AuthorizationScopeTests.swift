import ACMEClient
import ACMECrypto
import CertStore
import CertkeeperConfig
import Foundation
import Renewal
import Testing

/// A CA cannot make certkeeper solve challenges, update DNS or run a hook for a name the spec did not request.
@Suite struct AuthorizationScopeTests {
    let marker = NSTemporaryDirectory() + "certkeeper-solver-\(UUID().uuidString).log"

    /// dns-01 through an exec hook that records each call in `marker`; no propagation check.
    var execChallenge: ChallengeSpec {
        ChallengeSpec(
            defaultSolver: .dns01Exec(
                command: ["/bin/sh", "-c", "printf '%s\\n' \"$*\" >> \"$0\"", marker],
                PropagationSettings(servers: [], timeoutSeconds: 0)))
    }

    var solverCalls: [String] {
        ((try? String(contentsOfFile: marker, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func anAuthorizationForAnotherNameIsRefusedBeforeAnySolverRuns() async throws {
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: execChallenge)
        h.server.scriptAuthorizations([
            (value: "www.example.test", wildcard: false), (value: "victim.example", wildcard: false),
        ])
        _ = await h.maintainer.process(spec, force: false)
        #expect(solverCalls.isEmpty, "\(solverCalls)")
        #expect(h.server.answeredChallenges.isEmpty)
        #expect(h.installed(spec) == nil)
        let lastError = try #require(await h.state(spec)?.backoff?.lastError)
        #expect(lastError.contains("victim.example"), "\(lastError)")
        #expect(lastError.contains(FakeACMEServer.directoryURL), "\(lastError)")
    }

    @Test func aWildcardFlagOnANameRequestedWithoutOneIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let h = try MaintainerHarness()
        let spec = h.spec(domains: ["example.test"], challenge: execChallenge)
        h.server.scriptAuthorizations([(value: "example.test", wildcard: true)])
        _ = await h.maintainer.process(spec, force: false)
        #expect(solverCalls.isEmpty, "\(solverCalls)")
        let lastError = try #require(await h.state(spec)?.backoff?.lastError)
        #expect(lastError.contains("*.example.test"), "\(lastError)")
    }

    @Test func anOrderWhoseIdentifiersDifferFromTheRequestIsRefused() async throws {
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let h = try MaintainerHarness()
        let spec = h.spec(challenge: execChallenge)
        h.server.scriptAuthorizations()
        h.server.scriptOrderIdentifiers(["www.example.test", "victim.example"])
        _ = await h.maintainer.process(spec, force: false)
        #expect(solverCalls.isEmpty, "\(solverCalls)")
        #expect(h.server.answeredChallenges.isEmpty)
        let lastError = try #require(await h.state(spec)?.backoff?.lastError)
        #expect(lastError.contains("victim.example"), "\(lastError)")
        #expect(lastError.contains(FakeACMEServer.directoryURL), "\(lastError)")
    }

    @Test func wildcardAuthorizationsMapToTheirRequestedNames() async throws {
        defer { try? FileManager.default.removeItem(atPath: marker) }
        let h = try MaintainerHarness()
        let spec = h.spec(domains: ["*.example.test", "example.test"], challenge: execChallenge)
        // RFC 8555 §7.1.3: `*.example.test` is authorized as `example.test` with "wildcard": true.
        h.server.scriptAuthorizations()
        _ = await h.maintainer.process(spec, force: false)
        let lastError = await h.state(spec)?.backoff?.lastError
        #expect(h.installed(spec) != nil, "\(lastError ?? "")")
        #expect(h.server.answeredChallenges.count == 2)
        #expect(
            solverCalls.filter { $0.hasPrefix("present _acme-challenge.example.test.") }.count == 2, "\(solverCalls)")
    }
}
