/// Order status (RFC 8555 §7.1.6): pending -> ready -> processing -> valid, or invalid.
///
/// An open set: unknown values from a server decode and round-trip unchanged.
public struct OrderStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    public var rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }

    public static let pending = Self(rawValue: "pending")
    public static let ready = Self(rawValue: "ready")
    public static let processing = Self(rawValue: "processing")
    public static let valid = Self(rawValue: "valid")
    public static let invalid = Self(rawValue: "invalid")

    public var description: String { rawValue }
}
