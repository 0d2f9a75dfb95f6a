/// Account status (RFC 8555 §7.1.6): valid -> deactivated | revoked.
///
/// An open set: unknown values from a server decode and round-trip unchanged.
package struct AccountStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    package static let valid = Self(rawValue: "valid")
    package static let deactivated = Self(rawValue: "deactivated")
    package static let revoked = Self(rawValue: "revoked")

    package var description: String { rawValue }
}
