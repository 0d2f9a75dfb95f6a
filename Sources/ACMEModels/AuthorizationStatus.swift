/// Authorization status (RFC 8555 §7.1.6).
///
/// An open set: unknown values from a server decode and round-trip unchanged.
package struct AuthorizationStatus: RawRepresentable, Sendable, Hashable, Codable,
    CustomStringConvertible
{
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    package static let pending = Self(rawValue: "pending")
    package static let valid = Self(rawValue: "valid")
    package static let invalid = Self(rawValue: "invalid")
    package static let deactivated = Self(rawValue: "deactivated")
    package static let expired = Self(rawValue: "expired")
    package static let revoked = Self(rawValue: "revoked")

    package var description: String { rawValue }
}
