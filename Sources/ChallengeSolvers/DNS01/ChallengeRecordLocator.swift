import DNSWire

/// Where a dns-01 TXT record is written: at `_acme-challenge.<domain>`, or, when that name is a CNAME, at the end of
/// its chain (CNAME delegation: the CA follows the alias, so the record goes where it points, usually in a zone kept
/// for this purpose whose credentials cannot touch the main zone).
package struct ChallengeRecordLocator: Sendable {
    /// Servers asked, in order, until one answers authoritatively or recursively (NOERROR or NXDOMAIN).
    package var resolvers: [DNSServerAddress]
    /// Aliases followed at most; a longer chain or a loop is an error.
    package var maxHops: Int
    package var client: DNSClient

    package init(
        resolvers: [DNSServerAddress], maxHops: Int = 8,
        client: DNSClient = DNSClient(timeout: .seconds(2), attempts: 2)
    ) {
        self.resolvers = resolvers
        self.maxHops = maxHops
        self.client = client
    }

    /// The record's name, and whether an alias moved it.
    package struct Target: Sendable, Hashable {
        package var name: DNSName
        /// The aliases followed, starting with `_acme-challenge.<domain>`; empty when there was none.
        package var chain: [DNSName]
        package var isDelegated: Bool { !chain.isEmpty }
    }

    /// Follows `_acme-challenge.<domain>`'s CNAME chain.
    ///
    /// When no resolver answers (all time out or refuse), the name itself is used: writing there fails plainly if it
    /// is an alias after all, and set-ups without delegation keep working on hosts without a resolver.
    /// - Throws: ``DNS01SolverError``-ready ``DelegationError`` for a loop or a chain longer than ``maxHops``.
    package func locate(domain: String) async throws -> Target {
        let start = try DNS01Record.name(for: domain)
        var name = start
        var chain: [DNSName] = []
        while let next = await alias(of: name) {
            chain.append(name)
            // The target comes off the wire: it reaches an exec hook's argv and API requests only as a host name
            // (letters, digits, '-', '_' labels).
            guard !next.labels.isEmpty, next.labels.allSatisfy(Self.isHostLabel) else {
                throw DelegationError(
                    chain: chain,
                    reason: "the CNAME points at a name that is not a host name (letters, digits, '-' and '_' only)")
            }
            if chain.contains(where: { $0 == next }) || next == start {
                throw DelegationError(
                    chain: chain + [next], reason: "the CNAME chain loops; fix the records")
            }
            guard chain.count <= maxHops else {
                throw DelegationError(
                    chain: chain + [next],
                    reason: "more than \(maxHops) CNAMEs; point _acme-challenge at its target directly")
            }
            name = next
        }
        return Target(name: name, chain: chain)
    }

    static func isHostLabel(_ label: [UInt8]) -> Bool {
        !label.isEmpty
            && label.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    return true
                default:
                    return false
                }
            }
    }

    /// The CNAME target of `name`, or nil when it has none or no resolver could say.
    private func alias(of name: DNSName) async -> DNSName? {
        for resolver in resolvers {
            guard let response = try? await client.query(name, type: .cname, server: resolver, recursionDesired: true),
                response.rcode == .noError || response.rcode == .nxDomain
            else { continue }
            for record in response.answers where record.name == name {
                if case .cname(let target) = record.rdata { return target }
            }
            return nil
        }
        return nil
    }
}

/// An `_acme-challenge` CNAME chain that cannot be followed.
package struct DelegationError: Error, Sendable, Hashable, CustomStringConvertible {
    package var chain: [DNSName]
    package var reason: String

    package var description: String {
        "following \(chain.map(\.description).joined(separator: " → ")): \(reason)"
    }
}
