public import Foundation

/// An ACME order object (RFC 8555 §7.1.3), with `replaces` (RFC 9773 §5) and `profile` (profiles draft).
public struct Order: Sendable, Hashable, Codable {
    public var status: OrderStatus
    public var expires: Date?
    public var identifiers: [Identifier]
    public var notBefore: Date?
    public var notAfter: Date?
    public var error: ACMEProblem?
    /// Authorization URLs, in no particular order.
    public var authorizations: [String]
    /// The finalize URL.
    public var finalize: String
    /// The certificate URL, set once the order is `valid`.
    public var certificate: String?
    public var replaces: String?
    public var profile: String?

    public init(
        status: OrderStatus,
        expires: Date? = nil,
        identifiers: [Identifier],
        authorizations: [String],
        finalize: String,
        certificate: String? = nil,
        error: ACMEProblem? = nil,
        replaces: String? = nil,
        profile: String? = nil
    ) {
        self.status = status
        self.expires = expires
        self.identifiers = identifiers
        self.authorizations = authorizations
        self.finalize = finalize
        self.certificate = certificate
        self.error = error
        self.replaces = replaces
        self.profile = profile
    }
}
