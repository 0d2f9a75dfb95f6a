/// Authorization status (RFC 8555 §7.1.6).
///
/// An open set: unknown values from a server decode and round-trip unchanged.
public struct AuthorizationStatus: RawRepresentable, Sendable, Hashable, Codable,
    CustomStringConvertible
{
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending = Self(rawValue: "pending")
    public static let valid = Self(rawValue: "valid")
    public static let invalid = Self(rawValue: "invalid")
    public static let deactivated = Self(rawValue: "deactivated")
    public static let expired = Self(rawValue: "expired")
    public static let revoked = Self(rawValue: "revoked")

    public var description: String { rawValue }
}
