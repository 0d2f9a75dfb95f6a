import DNSWire
import Foundation

/// Answers dns-01 by adding `_acme-challenge.<domain>` TXT records with RFC 2136 dynamic updates.
///
/// `present` adds one TXT RR, `waitUntilVisible` waits until every authoritative server (or each of
/// `propagationServers`) serves it, and `cleanUp` deletes exactly that RR (RFC 2136 §2.5.4), so the records
/// of a wildcard and its base name, which share one owner name, never remove each other.
package struct RFC2136Solver: ChallengeSolver {
    /// The primary server that accepts updates, `host:port` (port 53 by default).
    package var server: String
    /// The zone to update; nil finds it with SOA queries to `server`.
    package var zone: String?
    /// The TSIG key; nil sends unsigned updates.
    package var key: TSIGKey?
    /// Servers that must serve the record (`host:port`); empty means the zone's NS hosts on port 53.
    package var propagationServers: [String]
    /// How long `waitUntilVisible` waits; `.zero` skips the check.
    package var propagationTimeout: Duration
    package var propagationInterval: Duration
    /// TTL of the added record, in seconds. Defaults to 60.
    package var ttl: UInt32
    /// The recursive resolver that follows `_acme-challenge` CNAMEs (`host:port`); nil asks `server`, then the
    /// first nameserver of /etc/resolv.conf.
    package var resolver: String?
    /// The zone to update when the record is delegated by a CNAME; nil finds the target's zone with SOA queries.
    package var delegatedZone: String?
    /// Where `present` put each record (read again by `waitUntilVisible` and `cleanUp`).
    package let located = LocatedRecords()
    package var client: DNSClient
    package var now: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        server: String,
        zone: String? = nil,
        key: TSIGKey?,
        propagationServers: [String] = [],
        propagationTimeout: Duration = .seconds(120),
        propagationInterval: Duration = .seconds(2),
        ttl: UInt32 = 60,
        resolver: String? = nil,
        delegatedZone: String? = nil,
        client: DNSClient = DNSClient(),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.server = server
        self.zone = zone
        self.key = key
        self.propagationServers = propagationServers
        self.propagationTimeout = propagationTimeout
        self.propagationInterval = propagationInterval
        self.ttl = ttl
        self.resolver = resolver
        self.delegatedZone = delegatedZone
        self.client = client
        self.now = now
        self.sleep = sleep
    }

    package func present(_ task: ChallengeTask) async throws {
        try await withContext(task) { updater, name, zone, value in
            try await updater.add(name: name, txt: value, ttl: ttl, zone: zone)
        }
    }

    package func waitUntilVisible(_ task: ChallengeTask) async throws {
        guard propagationTimeout > .zero else { return }
        try await withContext(task) { updater, name, zone, value in
            let checker = PropagationChecker(
                client: client,
                timeout: propagationTimeout,
                interval: propagationInterval,
                now: now,
                sleep: sleep
            )
            let servers: PropagationChecker.Servers =
                propagationServers.isEmpty
                ? .authoritative(zone: zone, resolver: updater.server)
                : .explicit(try propagationServers.map { try DNSServerAddress($0) })
            try await checker.waitUntilVisible(name: name, txt: value, servers: servers)
        }
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        try await withContext(task) { updater, name, zone, value in
            try await updater.delete(name: name, txt: value, zone: zone)
        }
    }

    /// Resolves the updater, record name, zone and value, and labels errors with the domain.
    private func withContext(
        _ task: ChallengeTask,
        _ body: (RFC2136Updater, DNSName, DNSName, String) async throws -> Void
    ) async throws {
        do {
            let updater = RFC2136Updater(
                server: try DNSServerAddress(server),
                key: key,
                client: client,
                now: now
            )
            let resolvers =
                try resolver.map { [try DNSServerAddress($0)] }
                ?? [updater.server, try ExecDNSSolver.systemResolver()]
            let target = try await located.target(for: task.domain) {
                try await ChallengeRecordLocator(resolvers: resolvers).locate(domain: task.domain)
            }
            let name = target.name
            let configuredZone = target.isDelegated ? delegatedZone : zone
            let zoneName: DNSName
            if let configuredZone {
                zoneName = try DNSName(configuredZone)
            } else {
                zoneName = try await updater.findZone(for: name)
            }
            try await body(updater, name, zoneName, DNS01Record.value(keyAuthorization: task.keyAuthorization))
        } catch let error as DNS01SolverError {
            throw error
        } catch {
            throw DNS01SolverError(solver: "rfc2136", domain: task.domain, reason: "\(error)")
        }
    }
}
