/// An ACME identifier (RFC 8555 §7.1.3/§7.1.4), e.g. `{"type":"dns","value":"www.example.org"}`.
public struct Identifier: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The identifier type, `dns` or `ip`.
    public var type: String
    /// The identifier value, e.g. a DNS name.
    public var value: String

    public init(type: String, value: String) {
        self.type = type
        self.value = value
    }

    /// A `dns` identifier.
    public static func dns(_ name: String) -> Identifier { Identifier(type: "dns", value: name) }

    public var description: String { "\(type):\(value)" }
}
