/// Order status (RFC 8555 §7.1.6): pending -> ready -> processing -> valid, or invalid.
///
/// An open set: unknown values from a server decode and round-trip unchanged.
package struct OrderStatus: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
    package var rawValue: String

    package init(rawValue: String) { self.rawValue = rawValue }

    package static let pending = Self(rawValue: "pending")
    package static let ready = Self(rawValue: "ready")
    package static let processing = Self(rawValue: "processing")
    package static let valid = Self(rawValue: "valid")
    package static let invalid = Self(rawValue: "invalid")

    package var description: String { rawValue }
}
