/// An ACME account object (RFC 8555 §7.1.2).
package struct AccountObject: Sendable, Hashable, Codable {
    package var status: AccountStatus
    package var contact: [String]?
    package var termsOfServiceAgreed: Bool?
    /// The orders list URL (POST-as-GET).
    package var orders: String?

    package init(
        status: AccountStatus, contact: [String]? = nil, termsOfServiceAgreed: Bool? = nil,
        orders: String? = nil
    ) {
        self.status = status
        self.contact = contact
        self.termsOfServiceAgreed = termsOfServiceAgreed
        self.orders = orders
    }
}
