/// The configured trust-roots PEM file (`trust_roots` in a `[ca.*]` table) cannot be used.
package struct TrustRootsFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The PEM file's path, as configured.
    package var path: String
    /// What is wrong with it.
    package var reason: String

    package init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    package var description: String {
        "trust roots file \(path): \(reason); point trust_roots at a readable PEM file of CA certificates"
    }
}
