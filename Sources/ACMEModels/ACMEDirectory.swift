/// The ACME directory resource (RFC 8555 §7.1.1, RFC 9773 §3, draft-ietf-acme-profiles §3).
///
/// Unknown keys (Let's Encrypt adds a random one) are ignored.
package struct ACMEDirectory: Sendable, Hashable, Codable {
    package var newNonce: String
    package var newAccount: String
    package var newOrder: String
    /// Absent when the server does not support pre-authorization.
    package var newAuthz: String?
    package var revokeCert: String
    package var keyChange: String
    /// The ARI base URL (RFC 9773); nil when the CA does not support ARI.
    package var renewalInfo: String?
    package var meta: Meta?

    /// The directory `meta` object.
    package struct Meta: Sendable, Hashable, Codable {
        package var termsOfService: String?
        package var website: String?
        package var caaIdentities: [String]?
        package var externalAccountRequired: Bool?
        /// Profile name -> description or URL.
        package var profiles: [String: String]?

        package init(
            termsOfService: String? = nil,
            website: String? = nil,
            caaIdentities: [String]? = nil,
            externalAccountRequired: Bool? = nil,
            profiles: [String: String]? = nil
        ) {
            self.termsOfService = termsOfService
            self.website = website
            self.caaIdentities = caaIdentities
            self.externalAccountRequired = externalAccountRequired
            self.profiles = profiles
        }
    }

    package init(
        newNonce: String,
        newAccount: String,
        newOrder: String,
        newAuthz: String? = nil,
        revokeCert: String,
        keyChange: String,
        renewalInfo: String? = nil,
        meta: Meta? = nil
    ) {
        self.newNonce = newNonce
        self.newAccount = newAccount
        self.newOrder = newOrder
        self.newAuthz = newAuthz
        self.revokeCert = revokeCert
        self.keyChange = keyChange
        self.renewalInfo = renewalInfo
        self.meta = meta
    }
}
