import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Waits until every authoritative server of a zone serves a TXT value (RFC 8555 §8.2: respond to the
/// challenge only once the record is visible everywhere).
///
/// Time is injected: `now` reads the wall clock and `sleep` waits between rounds, so tests run instantly.
package struct PropagationChecker: Sendable {
    /// Which servers must serve the record.
    package enum Servers: Sendable, Hashable {
        /// The zone's NS records, resolved to IPv4 addresses through `resolver`, queried on `port`.
        case authoritative(zone: DNSName, resolver: DNSServerAddress, port: UInt16 = 53)
        /// A fixed list, e.g. `["127.0.0.1:5353"]`.
        case explicit([DNSServerAddress])
    }

    package var client: DNSClient
    /// Overall limit; `.zero` skips the check entirely.
    package var timeout: Duration
    /// Pause between rounds.
    package var interval: Duration
    package var now: @Sendable () -> Date
    package var sleep: @Sendable (Duration) async throws -> Void

    package init(
        client: DNSClient = DNSClient(timeout: .seconds(2), attempts: 2),
        timeout: Duration = .seconds(120),
        interval: Duration = .seconds(2),
        now: @escaping @Sendable () -> Date = { Date() },
        sleep: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) }
    ) {
        self.client = client
        self.timeout = timeout
        self.interval = interval
        self.now = now
        self.sleep = sleep
    }

    /// Returns once each server answers an RD=0 TXT query for `name` with a record whose strings joined
    /// equal `txt`.
    ///
    /// - Returns: the servers that were checked (empty when the timeout is zero).
    /// - Throws: ``PropagationError`` naming the servers that never served the value.
    @discardableResult
    package func waitUntilVisible(name: DNSName, txt: String, servers: Servers) async throws -> [DNSServerAddress] {
        guard timeout > .zero else { return [] }
        let start = now()
        let deadline = start.addingTimeInterval(Self.seconds(timeout))
        let step = max(interval, .milliseconds(1))
        // Counted as a Double and clamped before the conversion, which would trap for an absurd timeout.
        let maxRounds = Int(min(100_000, (timeout / step).rounded(.up) + 1))
        var targets: [DNSServerAddress]? = nil
        var pending: [DNSServerAddress: String] = [:]
        var resolveError: String? = nil
        for round in 0..<maxRounds {
            if targets == nil {
                do {
                    let resolved = try await resolve(servers)
                    targets = resolved
                    for server in resolved { pending[server] = "not checked yet" }
                    resolveError = nil
                } catch {
                    resolveError = "\(error)"
                }
            }
            if targets != nil {
                for server in pending.keys.sorted(by: { $0.description < $1.description }) {
                    let observation = await observe(name: name, txt: txt, server: server)
                    pending[server] = observation
                    if observation == nil { pending.removeValue(forKey: server) }
                }
                if pending.isEmpty, let targets { return targets }
            }
            if round == maxRounds - 1 || now() >= deadline { break }
            try await sleep(step)
        }
        throw PropagationError(
            name: name,
            value: txt,
            timeout: timeout,
            pending: pending.map { PropagationError.Pending(server: $0.key, lastSeen: $0.value) }
                .sorted { $0.server.description < $1.server.description },
            resolveError: resolveError
        )
    }

    /// The servers to check: the explicit list, or the zone's NS hosts resolved to their IPv4 addresses, or to their
    /// IPv6 addresses when a host has no IPv4 address (glue in the NS answer first, then A and AAAA queries).
    package func resolve(_ servers: Servers) async throws -> [DNSServerAddress] {
        switch servers {
        case .explicit(let list):
            return list
        case .authoritative(let zone, let resolver, let port):
            let nsResponse = try await client.query(zone, type: .ns, server: resolver, recursionDesired: true)
            let hosts: [DNSName] = nsResponse.answers.compactMap {
                if case .ns(let host) = $0.rdata, $0.name == zone { return host }
                return nil
            }
            guard !hosts.isEmpty else {
                throw DNSClientError.badResponse(
                    server: resolver, reason: "no NS records for \(zone) (\(nsResponse.rcode))")
            }
            var addresses: [DNSServerAddress] = []
            for host in hosts {
                var ips = Self.addresses(in: nsResponse.additionals, owner: host)
                if ips.isEmpty {
                    let aResponse = try await client.query(host, type: .a, server: resolver, recursionDesired: true)
                    ips = Self.addresses(in: aResponse.answers, owner: host)
                }
                if ips.isEmpty {
                    let aaaaResponse = try await client.query(
                        host, type: .aaaa, server: resolver, recursionDesired: true)
                    ips = Self.addresses(in: aaaaResponse.answers, owner: host)
                }
                for ip in ips where !addresses.contains(where: { $0.host == ip }) {
                    addresses.append(DNSServerAddress(host: ip, port: port))
                }
            }
            guard !addresses.isEmpty else {
                throw DNSClientError.badResponse(
                    server: resolver,
                    reason:
                        "no IPv4 or IPv6 address for the NS hosts of \(zone) (\(hosts.map(\.description).joined(separator: ", ")))"
                )
            }
            return addresses
        }
    }

    /// nil when the server serves the value, else what it served instead.
    private func observe(name: DNSName, txt: String, server: DNSServerAddress) async -> String? {
        do {
            let response = try await client.query(name, type: .txt, server: server, recursionDesired: false)
            guard response.rcode == .noError else { return "answered \(response.rcode)" }
            let values = response.answers.filter { $0.name == name }.compactMap { $0.txtStrings?.joined() }
            if values.contains(txt) { return nil }
            return values.isEmpty ? "no TXT record" : "other TXT values: \(values.joined(separator: ", "))"
        } catch {
            return "\(error)"
        }
    }

    /// `owner`'s IPv4 addresses in `records`, or its IPv6 addresses when it has no IPv4 one.
    static func addresses(in records: [DNSResourceRecord], owner: DNSName) -> [String] {
        let v4 = records.compactMap { record -> String? in
            guard record.name == owner, case .a(let bytes) = record.rdata else { return nil }
            return bytes.map(String.init).joined(separator: ".")
        }
        guard v4.isEmpty else { return v4 }
        return records.compactMap { record -> String? in
            guard record.name == owner, case .aaaa(let bytes) = record.rdata, bytes.count == 16 else { return nil }
            var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            let text = bytes.withUnsafeBytes { raw in
                inet_ntop(AF_INET6, raw.baseAddress, &buffer, socklen_t(buffer.count))
            }
            return text.map { _ in
                String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}

/// The TXT record was not visible on every server before the timeout.
package struct PropagationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A server that did not serve the value, with what it answered last.
    package struct Pending: Sendable, Hashable {
        package var server: DNSServerAddress
        package var lastSeen: String
    }

    package var name: DNSName
    package var value: String
    package var timeout: Duration
    package var pending: [Pending]
    /// Set when the authoritative servers could not be found.
    package var resolveError: String?

    package var description: String {
        var text = "TXT \(name) \"\(value)\" not visible within \(timeout)"
        if let resolveError { text += "; cannot find the authoritative servers: \(resolveError)" }
        for item in pending { text += "; \(item.server): \(item.lastSeen)" }
        return text + "; raise the propagation timeout or check the servers"
    }
}
