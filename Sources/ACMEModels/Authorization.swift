import Foundation

/// An ACME authorization object (RFC 8555 §7.1.4). For a wildcard order the identifier has no `*.` and
/// `wildcard` is true.
package struct Authorization: Sendable, Hashable, Codable {
    package var identifier: Identifier
    package var status: AuthorizationStatus
    package var expires: Date?
    package var challenges: [Challenge]
    package var wildcard: Bool?

    package init(
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
    package func challenge(ofType type: String) -> Challenge? {
        challenges.first { $0.type == type }
    }
}
