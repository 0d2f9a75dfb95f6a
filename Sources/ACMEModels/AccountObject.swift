/// An ACME account object (RFC 8555 §7.1.2).
public struct AccountObject: Sendable, Hashable, Codable {
    public var status: AccountStatus
    public var contact: [String]?
    public var termsOfServiceAgreed: Bool?
    /// The orders list URL (POST-as-GET).
    public var orders: String?

    public init(
        status: AccountStatus, contact: [String]? = nil, termsOfServiceAgreed: Bool? = nil,
        orders: String? = nil
    ) {
        self.status = status
        self.contact = contact
        self.termsOfServiceAgreed = termsOfServiceAgreed
        self.orders = orders
    }
}
