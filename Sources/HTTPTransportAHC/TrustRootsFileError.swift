/// The configured trust-roots PEM file (`trust_roots` in a `[ca.*]` table) cannot be used.
public struct TrustRootsFileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The PEM file's path, as configured.
    public var path: String
    /// What is wrong with it.
    public var reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String {
        "trust roots file \(path): \(reason); point trust_roots at a readable PEM file of CA certificates"
    }
}
