// Integration tests against a real BIND 9, which is the independent TSIG implementation: BIND must accept
// our request MACs, and our code must verify BIND's response MACs.
//
// Run:
//   scripts/testenv/bind.sh start /tmp/bindtest 5353
//   swift build --build-tests
//   CERTKEEPER_TEST_BIND_DIR=/tmp/bindtest swift test --skip-build --filter DNS
//   scripts/testenv/bind.sh stop /tmp/bindtest
//
// Without CERTKEEPER_TEST_BIND_DIR these tests are skipped.
import Foundation
import Testing

@testable import DNSWire

/// The environment written by scripts/testenv/bind.sh (DIR/env).
struct BINDTestEnvironment {
    var server: DNSServerAddress
    var key: TSIGKey
    var zone: DNSName
    /// A zone whose only name server has only an IPv6 address (AAAA ::1).
    var v6Zone: DNSName

    static let directory = ProcessInfo.processInfo.environment["CERTKEEPER_TEST_BIND_DIR"]
    static var isAvailable: Bool { directory != nil }

    static func load() throws -> BINDTestEnvironment {
        let dir = try #require(directory, "set CERTKEEPER_TEST_BIND_DIR to a scripts/testenv/bind.sh directory")
        let text = try String(contentsOfFile: dir + "/env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        let port = try #require(values["BIND_PORT"].flatMap(UInt16.init))
        let key = try TSIGKey.load(path: try #require(values["TSIG_SECRET_FILE"]), name: values["TSIG_KEY_NAME"])
        return BINDTestEnvironment(
            server: DNSServerAddress(host: "127.0.0.1", port: port),
            key: key,
            zone: try DNSName(try #require(values["ZONE"])),
            v6Zone: try DNSName(try #require(values["V6_ZONE"], "bind.sh writes V6_ZONE; restart the test BIND"))
        )
    }

    /// A fresh owner name so runs do not see each other's records.
    func uniqueName(_ prefix: String = "_acme-challenge") throws -> DNSName {
        try DNSName("\(prefix).t\(UInt32.random(in: 0...UInt32.max)).\(zone)")
    }
}

/// A fake wall clock: `sleep` advances it instead of waiting.
final class SteppingClock: @unchecked Sendable {
    private let lock = NSLock()
    private var current: Date
    private(set) var sleeps: [Duration] = []

    init(_ start: Date = Date()) { current = start }

    func now() -> Date { lock.withLock { current } }

    func sleep(_ duration: Duration) {
        lock.withLock {
            sleeps.append(duration)
            current = current.addingTimeInterval(Double(duration.components.seconds))
        }
    }
}

@Suite(.enabled(if: BINDTestEnvironment.isAvailable, "set CERTKEEPER_TEST_BIND_DIR (see scripts/testenv/bind.sh)"))
struct BINDIntegrationTests {
    let env: BINDTestEnvironment
    let client = DNSClient(timeout: .seconds(2), attempts: 2)

    init() throws { env = try BINDTestEnvironment.load() }

    func txtValues(_ name: DNSName) async throws -> [String] {
        let response = try await client.query(name, type: .txt, server: env.server)
        return response.answers.compactMap { $0.txtStrings?.joined() }.sorted()
    }

    @Test func addThenDeleteOnlyOneRecordOfTheRRset() async throws {
        let updater = RFC2136Updater(server: env.server, key: env.key, client: client)
        let name = try env.uniqueName()
        try await updater.add(name: name, txt: "apex-value", ttl: 60, zone: env.zone)
        try await updater.add(name: name, txt: "wildcard-value", ttl: 60, zone: env.zone)
        #expect(try await txtValues(name) == ["apex-value", "wildcard-value"])

        try await updater.delete(name: name, txt: "apex-value", zone: env.zone)
        #expect(try await txtValues(name) == ["wildcard-value"])

        try await updater.delete(name: name, txt: "wildcard-value", zone: env.zone)
        // `*.example.test A` matches the name, so the answer is NOERROR with no TXT data.
        #expect(try await txtValues(name) == [])
    }

    @Test func wrongSecretIsBADSIGAndTheErrorNamesServerZoneKeyButNotTheSecret() async throws {
        let badSecret: [UInt8] = Array(repeating: 0x5A, count: 32)
        let badKey = TSIGKey(name: env.key.name, algorithm: .hmacSHA256, secret: badSecret)
        let updater = RFC2136Updater(server: env.server, key: badKey, client: client)
        let error = try await #require(throws: DNSUpdateError.self) {
            try await updater.add(name: try env.uniqueName(), txt: "x", zone: env.zone)
        }
        #expect(error.tsigError == .badSig)
        #expect(error.rcode == .notAuth)
        let text = error.description
        #expect(text.contains("127.0.0.1:\(env.server.port)"))
        #expect(text.contains("example.test."))
        #expect(text.contains(env.key.name.description))
        #expect(text.contains("BADSIG"))
        #expect(!text.contains(Data(badSecret).base64EncodedString()))
        #expect(!text.contains(Data(env.key.secret).base64EncodedString()))
    }

    @Test func unknownKeyIsBADKEY() async throws {
        let stranger = TSIGKey(name: try DNSName("no-such-key"), secret: env.key.secret)
        let updater = RFC2136Updater(server: env.server, key: stranger, client: client)
        let error = try await #require(throws: DNSUpdateError.self) {
            try await updater.add(name: try env.uniqueName(), txt: "x", zone: env.zone)
        }
        #expect(error.tsigError == .badKey)
        #expect(error.description.contains("no-such-key."))
    }

    @Test func unsignedUpdateIsRefused() async throws {
        let updater = RFC2136Updater(server: env.server, key: nil, client: client)
        let error = try await #require(throws: DNSUpdateError.self) {
            try await updater.add(name: try env.uniqueName(), txt: "x", zone: env.zone)
        }
        #expect(error.rcode == .refused)
        #expect(error.description.contains("no TSIG key"))
    }

    @Test func findZoneWalksUpLabels() async throws {
        let updater = RFC2136Updater(server: env.server, key: env.key, client: client)
        #expect(try await updater.findZone(for: try DNSName("_acme-challenge.deep.www.example.test")) == env.zone)
        #expect(try await updater.findZone(for: env.zone) == env.zone)
        await #expect(throws: DNSUpdateError.self) { try await updater.findZone(for: try DNSName("other.invalid")) }
    }

    /// More TXT data than fits in 512 bytes: BIND sets TC over UDP and the client retries over TCP.
    @Test func truncatedAnswersFallBackToTCP() async throws {
        let updater = RFC2136Updater(server: env.server, key: env.key, client: client)
        let name = try env.uniqueName()
        let values = (0..<16).map { "value-\($0)-" + String(repeating: "x", count: 40) }
        for value in values { try await updater.add(name: name, txt: value, zone: env.zone) }
        #expect(try await txtValues(name) == values.sorted())
        for value in values { try await updater.delete(name: name, txt: value, zone: env.zone) }
    }

    @Test func propagationCheckerSeesTheRecordOnExplicitAndAuthoritativeServers() async throws {
        let updater = RFC2136Updater(server: env.server, key: env.key, client: client)
        let name = try env.uniqueName()
        try await updater.add(name: name, txt: "visible", zone: env.zone)
        let clock = SteppingClock()
        let checker = PropagationChecker(
            client: client,
            timeout: .seconds(10),
            interval: .seconds(1),
            now: { clock.now() },
            sleep: { clock.sleep($0) }
        )
        #expect(
            try await checker.waitUntilVisible(name: name, txt: "visible", servers: .explicit([env.server])) == [
                env.server
            ])
        // NS ns.example.test. -> A 127.0.0.1, queried on the test port.
        let servers = try await checker.waitUntilVisible(
            name: name,
            txt: "visible",
            servers: .authoritative(zone: env.zone, resolver: env.server, port: env.server.port)
        )
        #expect(servers == [DNSServerAddress(host: "127.0.0.1", port: env.server.port)])
        #expect(clock.sleeps.isEmpty)
        try await updater.delete(name: name, txt: "visible", zone: env.zone)
    }

    /// The zone's only name server has no IPv4 address: it is asked over IPv6 (BIND on [::1]).
    @Test func propagationCheckerAsksAnIPv6OnlyNameServerOverIPv6() async throws {
        let updater = RFC2136Updater(server: env.server, key: env.key, client: client)
        let name = try DNSName("_acme-challenge.t\(UInt32.random(in: 0...UInt32.max)).\(env.v6Zone)")
        try await updater.add(name: name, txt: "over-v6", zone: env.v6Zone)
        let clock = SteppingClock()
        let checker = PropagationChecker(
            client: client, timeout: .seconds(10), interval: .seconds(1), now: { clock.now() },
            sleep: { clock.sleep($0) })
        // NS ns6.v6only.test. -> AAAA ::1 only, queried on the test port.
        let servers = try await checker.waitUntilVisible(
            name: name, txt: "over-v6",
            servers: .authoritative(zone: env.v6Zone, resolver: env.server, port: env.server.port))
        #expect(servers == [DNSServerAddress(host: "::1", port: env.server.port)])
        #expect(clock.sleeps.isEmpty)
        try await updater.delete(name: name, txt: "over-v6", zone: env.v6Zone)
    }

    @Test func propagationCheckerGivesUpAtTheTimeoutWithoutRealSleeping() async throws {
        let clock = SteppingClock()
        let checker = PropagationChecker(
            client: client,
            timeout: .seconds(10),
            interval: .seconds(2),
            now: { clock.now() },
            sleep: { clock.sleep($0) }
        )
        let name = try env.uniqueName()
        let error = try await #require(throws: PropagationError.self) {
            try await checker.waitUntilVisible(name: name, txt: "never", servers: .explicit([env.server]))
        }
        #expect(clock.sleeps == Array(repeating: .seconds(2), count: 5))
        #expect(error.pending.map(\.server) == [env.server])
        #expect(error.description.contains("never"))
        #expect(error.pending.first?.lastSeen == "no TXT record")
    }
}

@Suite struct PropagationCheckerUnitTests {
    @Test func zeroTimeoutSkipsWithoutQuerying() async throws {
        let checker = PropagationChecker(timeout: .zero, sleep: { _ in Issue.record("must not sleep") })
        let servers = try await checker.waitUntilVisible(
            name: try DNSName("x.test"),
            txt: "v",
            servers: .explicit([DNSServerAddress(host: "192.0.2.1")])
        )
        #expect(servers.isEmpty)
    }

    /// Nothing listens on the port: every round fails, the loop is bounded by timeout/interval.
    @Test func unreachableServerTimesOutAfterBoundedRounds() async throws {
        let clock = SteppingClock()
        let checker = PropagationChecker(
            client: DNSClient(timeout: .milliseconds(50), attempts: 1),
            timeout: .seconds(3),
            interval: .seconds(1),
            now: { clock.now() },
            sleep: { clock.sleep($0) }
        )
        let server = DNSServerAddress(host: "127.0.0.1", port: 9)
        let error = try await #require(throws: PropagationError.self) {
            try await checker.waitUntilVisible(name: try DNSName("x.test"), txt: "v", servers: .explicit([server]))
        }
        #expect(clock.sleeps.count == 3)
        #expect(error.pending.map(\.server) == [server])
    }
}
