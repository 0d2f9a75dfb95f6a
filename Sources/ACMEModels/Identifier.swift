/// An ACME identifier (RFC 8555 §7.1.3/§7.1.4), e.g. `{"type":"dns","value":"www.example.org"}`.
package struct Identifier: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The identifier type, `dns` or `ip`.
    package var type: String
    /// The identifier value, e.g. a DNS name.
    package var value: String

    package init(type: String, value: String) {
        self.type = type
        self.value = value
    }

    /// A `dns` identifier.
    package static func dns(_ name: String) -> Identifier { Identifier(type: "dns", value: name) }

    package var description: String { "\(type):\(value)" }
}
