import CertStore
import ChallengeSolvers
import Crypto
import DNSWire
import Foundation
import Glibc
import Synchronization
import Testing

@testable import DNSProviders

/// A provider whose changes read the RRset, pause, and write it back whole, as the real APIs do: two changes to one
/// name at the same time would lose one. Counts how many changes to one name overlap.
final class ReadModifyWriteAPI: DNSProviderAPI {
    let provider = "rmw"
    private let state = Mutex<(txt: [String], inFlight: Int, maxInFlight: Int)>(([], 0, 0))

    var txt: [String] { state.withLock { $0.txt } }
    var maxInFlight: Int { state.withLock { $0.maxInFlight } }

    func zone(for name: DNSName) async throws -> DNSName { try DNSName("example.com") }

    func addTXT(name: DNSName, value: String, ttl: UInt32) async throws {
        try await change { $0.contains(value) ? $0 : $0 + [value] }
    }

    func removeTXT(name: DNSName, value: String) async throws {
        try await change { $0.filter { $0 != value } }
    }

    private func change(_ edit: ([String]) -> [String]) async throws {
        let read = state.withLock { state -> [String] in
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            return state.txt
        }
        for _ in 0..<50 { await Task.yield() }
        try await Task.sleep(for: .zero)
        state.withLock {
            $0.txt = edit(read)
            $0.inFlight -= 1
        }
    }
}

/// A loopback UDP port nothing listens on (bound, read, closed): a resolver there refuses at once, so a solver that
/// looks up `_acme-challenge` aliases gets no answer without any query leaving the host or any wait.
func refusingLoopbackResolver() throws -> String {
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    try #require(fd >= 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    try #require(bound)
    return "127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
}

@Suite struct ProviderDNSSolverTests {
    static func task(_ domain: String, wildcard: Bool, keyAuthorization: String) -> ChallengeTask {
        ChallengeTask(
            domain: domain, wildcard: wildcard, type: "dns-01", token: "tok", keyAuthorization: keyAuthorization)
    }

    /// base64url(SHA-256(keyAuthorization)) without padding, computed here rather than by the solver.
    static func value(_ keyAuthorization: String) -> String {
        Data(SHA256.hash(data: Array(keyAuthorization.utf8))).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static let apex = task("example.com", wildcard: false, keyAuthorization: "apex-token.thumb")
    static let wildcard = task("example.com", wildcard: true, keyAuthorization: "wild-token.thumb")

    @Test func wildcardAndApexPresentedConcurrentlyBothStayAndCleanUpRemovesOnlyItsOwn() async throws {
        let api = MemoryDNSProviderAPI(provider: "powerdns", zones: [try DNSName("example.com")])
        let name = try DNSName("_acme-challenge.example.com")
        api.seed(name: name, values: ["keep-me"])
        let solver = ProviderDNSSolver(api: api, propagationTimeout: .zero, resolver: try refusingLoopbackResolver())
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in [Self.apex, Self.wildcard] {
                group.addTask {
                    try await solver.present(task)
                    try await solver.waitUntilVisible(task)
                }
            }
            try await group.waitForAll()
        }
        #expect(
            Set(api.txt(at: name)) == ["keep-me", Self.value("apex-token.thumb"), Self.value("wild-token.thumb")])
        #expect(api.txt(at: name).count == 3)

        try await solver.cleanUp(Self.wildcard)
        #expect(Set(api.txt(at: name)) == ["keep-me", Self.value("apex-token.thumb")])
        try await solver.cleanUp(Self.apex)
        #expect(api.txt(at: name) == ["keep-me"])
        // Cleaning up again is harmless.
        try await solver.cleanUp(Self.apex)
        #expect(api.txt(at: name) == ["keep-me"])
        #expect(api.changes.filter { $0.hasPrefix("add ") }.count == 2)
    }

    @Test func changesToOneNameAreSerialisedAcrossSolversSharingTheLock() async throws {
        let api = ReadModifyWriteAPI()
        let records = NamedAsyncMutex()
        // Two solvers, as the factory builds one per authorization, sharing `records`.
        let first = ProviderDNSSolver(
            api: api, propagationTimeout: .zero, resolver: try refusingLoopbackResolver(), records: records)
        let second = ProviderDNSSolver(
            api: api, propagationTimeout: .zero, resolver: try refusingLoopbackResolver(), records: records)
        let tasks = (0..<6).map {
            Self.task("example.com", wildcard: $0 % 2 == 0, keyAuthorization: "token-\($0).thumb")
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, task) in tasks.enumerated() {
                group.addTask { try await (index % 2 == 0 ? first : second).present(task) }
            }
            try await group.waitForAll()
        }
        #expect(api.maxInFlight == 1)
        #expect(Set(api.txt) == Set(tasks.map { Self.value($0.keyAuthorization) }))
        #expect(!(await records.isHeld("rmw _acme-challenge.example.com.")))
    }

    @Test func apiErrorsAreWrappedNamingTheProviderAndDomain() async throws {
        let api = MemoryDNSProviderAPI(provider: "cloudflare", zones: [try DNSName("example.org")])
        let records = NamedAsyncMutex()
        let solver = ProviderDNSSolver(
            api: api, propagationTimeout: .zero, resolver: try refusingLoopbackResolver(), records: records)
        let error = try await #require(throws: DNS01SolverError.self) {
            try await solver.present(Self.wildcard)
        }
        #expect(error.solver == "cloudflare")
        #expect(error.domain == "example.com")
        #expect(error.reason.contains("finding the zone for _acme-challenge.example.com."))
        #expect(error.description.hasPrefix("dns-01 (cloudflare) for example.com: "))
        // The lock is released after a failure: the next change to the name is not stuck.
        #expect(!(await records.isHeld("cloudflare _acme-challenge.example.com.")))
        await #expect(throws: DNS01SolverError.self) { try await solver.cleanUp(Self.wildcard) }
    }

    @Test func aDomainThatIsNotADNSNameIsReportedForThatDomain() async throws {
        let api = MemoryDNSProviderAPI(provider: "route53", zones: [try DNSName("example.com")])
        let solver = ProviderDNSSolver(api: api, propagationTimeout: .zero, resolver: try refusingLoopbackResolver())
        let error = try await #require(throws: DNS01SolverError.self) {
            try await solver.present(Self.task("bad name.example.com", wildcard: false, keyAuthorization: "t.k"))
        }
        #expect(error.solver == "route53")
        #expect(error.domain == "bad name.example.com")
        #expect(api.changes.isEmpty)
    }
}
