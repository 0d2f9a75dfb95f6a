// RFC2136Solver against a real BIND 9.
//
// Run:
//   scripts/testenv/bind.sh start /tmp/bindtest 5353
//   swift build --build-tests
//   CERTKEEPER_TEST_BIND_DIR=/tmp/bindtest swift test --skip-build --filter DNS01
//   scripts/testenv/bind.sh stop /tmp/bindtest
//
// Without CERTKEEPER_TEST_BIND_DIR these tests are skipped.
import ChallengeSolvers
import DNSWire
import Foundation
import Testing

private enum BINDEnv {
    static let directory = ProcessInfo.processInfo.environment["CERTKEEPER_TEST_BIND_DIR"]

    static func values() throws -> [String: String] {
        let dir = try #require(directory)
        let text = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        return values
    }
}

@Suite(.enabled(if: BINDEnv.directory != nil, "set CERTKEEPER_TEST_BIND_DIR (see scripts/testenv/bind.sh)"))
struct DNS01RFC2136SolverTests {
    let server: String
    let key: TSIGKey
    let client = DNSClient(timeout: .seconds(2), attempts: 2)

    init() throws {
        let values = try BINDEnv.values()
        server = "127.0.0.1:\(try #require(values["BIND_PORT"]))"
        key = try TSIGKey.load(path: try #require(values["TSIG_SECRET_FILE"]), name: values["TSIG_KEY_NAME"])
    }

    func txtValues(_ domain: String) async throws -> [String] {
        let response = try await client.query(
            try DNS01Record.name(for: domain),
            type: .txt,
            server: try DNSServerAddress(server)
        )
        return response.answers.compactMap { $0.txtStrings?.joined() }.sorted()
    }

    /// The base name and its wildcard share `_acme-challenge.<domain>`: cleaning one must keep the other.
    @Test func apexAndWildcardShareTheOwnerAndCleanUpIndependently() async throws {
        let domain = "s\(UInt32.random(in: 0...UInt32.max)).example.test"
        let apex = ChallengeTask(domain: domain, wildcard: false, type: "dns-01", token: "a", keyAuthorization: "a.th")
        let wild = ChallengeTask(domain: domain, wildcard: true, type: "dns-01", token: "w", keyAuthorization: "w.th")
        let solver = RFC2136Solver(
            server: server,
            zone: nil,
            key: key,
            propagationServers: [server],
            propagationTimeout: .seconds(10),
            client: client,
            sleep: { _ in }
        )
        try await solver.present(apex)
        try await solver.present(wild)
        try await solver.waitUntilVisible(apex)
        try await solver.waitUntilVisible(wild)
        let apexValue = DNS01Record.value(keyAuthorization: "a.th")
        let wildValue = DNS01Record.value(keyAuthorization: "w.th")
        #expect(try await txtValues(domain) == [apexValue, wildValue].sorted())

        try await solver.cleanUp(apex)
        #expect(try await txtValues(domain) == [wildValue])
        try await solver.cleanUp(wild)
        #expect(try await txtValues(domain) == [])
    }

    @Test func wrongSecretFailsWithServerZoneAndKeyName() async throws {
        let badKey = TSIGKey(name: key.name, algorithm: key.algorithm, secret: Array(repeating: 1, count: 32))
        let solver = RFC2136Solver(server: server, zone: "example.test", key: badKey, client: client)
        let task = ChallengeTask(
            domain: "x.example.test", wildcard: false, type: "dns-01", token: "t", keyAuthorization: "t.k")
        let error = try await #require(throws: DNS01SolverError.self) { try await solver.present(task) }
        #expect(error.description.contains(server))
        #expect(error.description.contains("zone example.test."))
        #expect(error.description.contains("TSIG key \(key.name)"))
        #expect(error.description.contains("BADSIG"))
        #expect(!error.description.contains(Data(key.secret).base64EncodedString()))
    }

    @Test func neverVisibleRecordTimesOutWithoutRealSleeping() async throws {
        let sleeps = SleepCounter()
        let solver = RFC2136Solver(
            server: server,
            zone: "example.test",
            key: key,
            propagationServers: [server],
            propagationTimeout: .seconds(6),
            propagationInterval: .seconds(2),
            client: client,
            now: { sleeps.now() },
            sleep: { sleeps.sleep($0) }
        )
        let task = ChallengeTask(
            domain: "never.example.test", wildcard: false, type: "dns-01", token: "t", keyAuthorization: "t.k")
        await #expect(throws: DNS01SolverError.self) { try await solver.waitUntilVisible(task) }
        #expect(sleeps.count == 3)
    }
}

extension DNS01RFC2136SolverTests {
    func txtValues(at name: String) async throws -> [String] {
        let response = try await client.query(try DNSName(name), type: .txt, server: try DNSServerAddress(server))
        return response.answers.filter { $0.name == (try? DNSName(name)) }.compactMap { $0.txtStrings?.joined() }
            .sorted()
    }

    func cnameTarget(of name: String) async throws -> DNSName? {
        let response = try await client.query(try DNSName(name), type: .cname, server: try DNSServerAddress(server))
        for record in response.answers { if case .cname(let target) = record.rdata { return target } }
        return nil
    }

    /// CNAME delegation: `_acme-challenge.cname.example.test` points at `cname.delegated.test`; the records go there,
    /// through a key that may update delegated.test only, and the alias stays as it was.
    @Test func delegatedRecordsAreWrittenAtTheCNAMETargetInItsZone() async throws {
        // One after the other: both write at the same target name.
        for delegatedZone in [nil, "delegated.test"] { try await writeThroughDelegation(delegatedZone: delegatedZone) }
    }

    func writeThroughDelegation(delegatedZone: String?) async throws {
        let values = try BINDEnv.values()
        let delegatedKey = try TSIGKey.load(
            path: try #require(values["DELEGATED_SECRET_FILE"]), name: values["DELEGATED_KEY_NAME"])
        let apex = ChallengeTask(
            domain: "cname.example.test", wildcard: false, type: "dns-01", token: "a", keyAuthorization: "da.th")
        let wild = ChallengeTask(
            domain: "cname.example.test", wildcard: true, type: "dns-01", token: "w", keyAuthorization: "dw.th")
        let solver = RFC2136Solver(
            server: server, zone: "example.test", key: delegatedKey, propagationServers: [server],
            propagationTimeout: .seconds(10), resolver: server, delegatedZone: delegatedZone, client: client,
            sleep: { _ in })
        try await solver.present(apex)
        try await solver.present(wild)
        try await solver.waitUntilVisible(apex)
        let expected = [DNS01Record.value(keyAuthorization: "da.th"), DNS01Record.value(keyAuthorization: "dw.th")]
        #expect(try await txtValues(at: "cname.delegated.test") == expected.sorted())
        #expect(
            try await cnameTarget(of: "_acme-challenge.cname.example.test") == (try DNSName("cname.delegated.test")))
        try await solver.cleanUp(apex)
        try await solver.cleanUp(wild)
        #expect(try await txtValues(at: "cname.delegated.test") == [])
        #expect(
            try await cnameTarget(of: "_acme-challenge.cname.example.test") == (try DNSName("cname.delegated.test")))
    }

    /// Without following the alias the update would go to example.test, which the delegated key may not touch: the
    /// test above passing proves the target was used; a loop is refused with the chain named.
    @Test func aCNAMELoopIsRefusedWithTheChain() async throws {
        let solver = RFC2136Solver(server: server, key: key, resolver: server, client: client)
        let task = ChallengeTask(
            domain: "loop.example.test", wildcard: false, type: "dns-01", token: "t", keyAuthorization: "t.k")
        let error = try await #require(throws: DNS01SolverError.self) { try await solver.present(task) }
        #expect(error.description.contains("_acme-challenge.loop.example.test."), "\(error)")
        #expect(error.description.contains("loops"), "\(error)")
    }

    /// The exec provider is given the CNAME's target as the FQDN.
    @Test func execProviderIsGivenTheDelegatedName() async throws {
        let hook = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/dns01-exec-hook.sh").path
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("exec-cname-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let solver = ExecDNSSolver(
            command: [hook], propagationTimeout: .zero, resolver: server, environment: ["HOOK_ARGV_LOG": log])
        try await solver.present(
            ChallengeTask(
                domain: "cname2.example.test", wildcard: true, type: "dns-01", token: "t", keyAuthorization: "t.k"))
        let argv = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(argv.prefix(2) == ["present", "cname2.delegated.test."], "\(argv)")
    }
}

private final class SleepCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = Date(timeIntervalSince1970: 1_700_000_000)
    private var sleeps = 0

    var count: Int { lock.withLock { sleeps } }
    func now() -> Date { lock.withLock { current } }
    func sleep(_ duration: Duration) {
        lock.withLock {
            sleeps += 1
            current += TimeInterval(duration.components.seconds)
        }
    }
}
