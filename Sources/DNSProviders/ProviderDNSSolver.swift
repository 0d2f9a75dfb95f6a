import CertStore
import ChallengeSolvers
import DNSWire
import Foundation

/// Answers dns-01 through a DNS provider's API: adds `_acme-challenge.<domain>` TXT, waits until the zone's
/// authoritative servers (or `propagationServers`) serve it, and removes exactly that value afterwards.
///
/// The APIs change a whole RRset at a time (read, add one value, write back), so changes to one name are serialised
/// through `records`, which the factory shares between all solvers: the wildcard's and the base name's challenges
/// share `_acme-challenge.<domain>` and run at the same time.
package struct ProviderDNSSolver: ChallengeSolver {
    package var api: any DNSProviderAPI
    /// Servers that must serve the record (`host:port`); empty means the zone's NS hosts on port 53.
    package var propagationServers: [String]
    /// How long `waitUntilVisible` waits; `.zero` skips the check.
    package var propagationTimeout: Duration
    package var propagationInterval: Duration
    /// The recursive resolver used to find the zone's NS hosts; nil reads `/etc/resolv.conf`.
    package var resolver: String?
    /// TTL of the added record, in seconds.
    package var ttl: UInt32
    package var records: NamedAsyncMutex
    /// Where `present` put each record (read again by `waitUntilVisible` and `cleanUp`).
    package let located = LocatedRecords()
    package var client: DNSClient
    package var now: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        api: any DNSProviderAPI,
        propagationServers: [String] = [],
        propagationTimeout: Duration = .seconds(120),
        propagationInterval: Duration = .seconds(2),
        resolver: String? = nil,
        ttl: UInt32 = 60,
        records: NamedAsyncMutex = NamedAsyncMutex(),
        client: DNSClient = DNSClient(),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.api = api
        self.propagationServers = propagationServers
        self.propagationTimeout = propagationTimeout
        self.propagationInterval = propagationInterval
        self.resolver = resolver
        self.ttl = ttl
        self.records = records
        self.client = client
        self.now = now
        self.sleep = sleep
    }

    package func present(_ task: ChallengeTask) async throws {
        try await labelled(task) { name, value in
            try await serialised(name) { try await api.addTXT(name: name, value: value, ttl: ttl) }
        }
    }

    package func waitUntilVisible(_ task: ChallengeTask) async throws {
        guard propagationTimeout > .zero else { return }
        try await labelled(task) { name, value in
            let checker = PropagationChecker(
                client: client, timeout: propagationTimeout, interval: propagationInterval, now: now, sleep: sleep)
            let servers: PropagationChecker.Servers
            if propagationServers.isEmpty {
                let resolverAddress = try resolver.map { try DNSServerAddress($0) } ?? ExecDNSSolver.systemResolver()
                servers = .authoritative(zone: try await api.zone(for: name), resolver: resolverAddress)
            } else {
                servers = .explicit(try propagationServers.map { try DNSServerAddress($0) })
            }
            try await checker.waitUntilVisible(name: name, txt: value, servers: servers)
        }
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        try await labelled(task) { name, value in
            try await serialised(name) { try await api.removeTXT(name: name, value: value) }
        }
    }

    private func serialised(_ name: DNSName, _ body: () async throws -> Void) async throws {
        let key = "\(api.provider) \(name.lowercased())"
        await records.acquire(key)
        do {
            try await body()
        } catch {
            await records.release(key)
            throw error
        }
        await records.release(key)
    }

    /// Resolves the record name (following `_acme-challenge` CNAMEs) and value, and labels errors with the provider
    /// and the domain.
    private func labelled(_ task: ChallengeTask, _ body: (DNSName, String) async throws -> Void) async throws {
        do {
            let resolverAddress = try resolver.map { try DNSServerAddress($0) } ?? ExecDNSSolver.systemResolver()
            let target = try await located.target(for: task.domain) {
                try await ChallengeRecordLocator(resolvers: [resolverAddress]).locate(domain: task.domain)
            }
            try await body(target.name, DNS01Record.value(keyAuthorization: task.keyAuthorization))
        } catch let error as DNS01SolverError {
            throw error
        } catch {
            throw DNS01SolverError(solver: api.provider, domain: task.domain, reason: "\(error)")
        }
    }
}
