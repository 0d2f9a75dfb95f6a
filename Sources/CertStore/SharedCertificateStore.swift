import Foundation

/// A certificate as the fleet shares it: what one node issued, for every node to install (its own paths, hooks and
/// units). The key is PEM; stores that persist it seal it at rest.
package struct SharedCertificate: Sendable, Hashable {
    package var name: String
    /// The leaf's serial in hex (as ``CertificateInfo/serialHex``).
    package var serial: String
    /// Leaf then intermediates, PEM.
    package var fullchainPEM: String
    package var keyPEM: String
    package var notAfter: Date
    /// The node that ordered it (``LeaseLockManager``'s owner), for logs.
    package var publishedBy: String

    package init(
        name: String, serial: String, fullchainPEM: String, keyPEM: String, notAfter: Date, publishedBy: String
    ) {
        self.name = name
        self.serial = serial
        self.fullchainPEM = fullchainPEM
        self.keyPEM = keyPEM
        self.notAfter = notAfter
        self.publishedBy = publishedBy
    }
}

/// The fleet's current certificate per name (PostgreSQL backend only; a single host's installed files are their own
/// truth and need none).
///
/// A node publishes what it issued before installing it locally, so a crash in between leaves it where every node,
/// including itself after a restart, installs it instead of ordering again.
package protocol SharedCertificateStore: Sendable {
    /// The newest certificate published for `name`, or nil.
    func latest(name: String) async throws -> SharedCertificate?
    /// Publishes a certificate as `name`'s current one and tells the other nodes (``changes()``).
    func publish(_ certificate: SharedCertificate) async throws
    /// Serial of every published certificate, by name (the periodic check behind notifications).
    func publishedSerials() async throws -> [String: String]
    /// Forgets `name`'s certificate (`certkeeper delete` once no live node has its spec); true when there was one.
    func remove(name: String) async throws -> Bool
}

/// The in-memory twin of the PostgreSQL shared-certificate table, for tests.
package actor MemorySharedCertificateStore: SharedCertificateStore {
    private var certificates: [String: SharedCertificate] = [:]

    package init() {}

    package func latest(name: String) -> SharedCertificate? { certificates[name] }

    package func publish(_ certificate: SharedCertificate) {
        certificates[certificate.name] = certificate
    }

    package func publishedSerials() -> [String: String] { certificates.mapValues(\.serial) }

    package func remove(name: String) -> Bool { certificates.removeValue(forKey: name) != nil }
}

/// What each node of a fleet says a certificate is (a digest of the settings every node must agree on: names, CA,
/// account, key type, profile), so two nodes with different specs of one name are reported instead of fighting.
package protocol FleetSpecRegistry: Sendable {
    /// Records this node's view of `name` and returns the other live nodes whose view differs.
    func declare(name: String, fingerprint: String, node: String) async throws -> [String]
    /// Forgets this node's views of every name but `names` (the specs it has now).
    func retain(names: Set<String>, node: String) async throws
    /// The nodes that have a spec of `name`, live or not heard from lately (`certkeeper delete` refuses while there
    /// are any).
    func nodesHaving(name: String) async throws -> [FleetSpecHolder]
}

/// A node with a spec of some certificate, and whether it has been heard from lately.
package struct FleetSpecHolder: Sendable, Hashable {
    package var node: String
    package var live: Bool

    package init(node: String, live: Bool) {
        self.node = node
        self.live = live
    }
}

/// The in-memory twin of the PostgreSQL spec registry.
package actor MemoryFleetSpecRegistry: FleetSpecRegistry {
    private var views: [String: [String: String]] = [:]

    package init() {}

    package func declare(name: String, fingerprint: String, node: String) -> [String] {
        views[name, default: [:]][node] = fingerprint
        return views[name, default: [:]].filter { $0.key != node && $0.value != fingerprint }.keys.sorted()
    }

    package func retain(names: Set<String>, node: String) {
        for name in views.keys where !names.contains(name) { views[name]?[node] = nil }
    }

    package func nodesHaving(name: String) -> [FleetSpecHolder] {
        (views[name] ?? [:]).keys.sorted().map { FleetSpecHolder(node: $0, live: true) }
    }
}
