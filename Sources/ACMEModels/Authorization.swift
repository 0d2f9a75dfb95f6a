public import Foundation

/// An ACME authorization object (RFC 8555 §7.1.4). For a wildcard order the identifier has no `*.` and
/// `wildcard` is true.
public struct Authorization: Sendable, Hashable, Codable {
    public var identifier: Identifier
    public var status: AuthorizationStatus
    public var expires: Date?
    public var challenges: [Challenge]
    public var wildcard: Bool?

    public init(
        identifier: Identifier,
        status: AuthorizationStatus,
        expires: Date? = nil,
        challenges: [Challenge],
        wildcard: Bool? = nil
    ) {
        self.identifier = identifier
        self.status = status
        self.expires = expires
        self.challenges = challenges
        self.wildcard = wildcard
    }

    /// The first challenge of `type` (e.g. `http-01`), or nil.
    public func challenge(ofType type: String) -> Challenge? {
        challenges.first { $0.type == type }
    }
}
