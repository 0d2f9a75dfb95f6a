import Foundation

/// An ACME order object (RFC 8555 §7.1.3), with `replaces` (RFC 9773 §5) and `profile` (profiles draft).
package struct Order: Sendable, Hashable, Codable {
    package var status: OrderStatus
    package var expires: Date?
    package var identifiers: [Identifier]
    package var notBefore: Date?
    package var notAfter: Date?
    package var error: ACMEProblem?
    /// Authorization URLs, in no particular order.
    package var authorizations: [String]
    /// The finalize URL.
    package var finalize: String
    /// The certificate URL, set once the order is `valid`.
    package var certificate: String?
    package var replaces: String?
    package var profile: String?

    package init(
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
