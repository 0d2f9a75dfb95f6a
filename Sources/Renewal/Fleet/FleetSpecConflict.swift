import ACMEClient

/// Live nodes of the fleet hold another spec of this certificate (names, CA, account, key type or profile): nothing
/// is ordered until they agree, so two nodes never replace each other's certificate in turn.
package struct FleetSpecConflict: Error, Sendable, Hashable, CustomStringConvertible, ClassifiedFailure {
    package var certificate: String
    package var nodes: [String]

    package var description: String {
        "the spec of \(certificate) differs on node(s) \(nodes.joined(separator: ", ")) (names, CA, account, key type or profile); make certs.d/\(certificate).toml the same on every node and reload them; nothing is ordered until they agree"
    }

    /// Retried soon: a rolling change of the spec across the fleet ends by itself.
    package var failureDisposition: FailureDisposition { .retryAttemptSoon }
}
