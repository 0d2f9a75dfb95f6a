/// Account status (RFC 8555 §7.1.6): valid -> deactivated | revoked.
///
/// An open set: unknown values from a server decode and round-trip unchanged.
public struct AccountStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let valid = Self(rawValue: "valid")
    public static let deactivated = Self(rawValue: "deactivated")
    public static let revoked = Self(rawValue: "revoked")

    public var description: String { rawValue }
}
