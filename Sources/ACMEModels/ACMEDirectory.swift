/// The ACME directory resource (RFC 8555 §7.1.1, RFC 9773 §3, draft-ietf-acme-profiles §3).
///
/// Unknown keys (Let's Encrypt adds a random one) are ignored.
public struct ACMEDirectory: Sendable, Hashable, Codable {
    public var newNonce: String
    public var newAccount: String
    public var newOrder: String
    /// Absent when the server does not support pre-authorization.
    public var newAuthz: String?
    public var revokeCert: String
    public var keyChange: String
    /// The ARI base URL (RFC 9773); nil when the CA does not support ARI.
    public var renewalInfo: String?
    public var meta: Meta?

    /// The directory `meta` object.
    public struct Meta: Sendable, Hashable, Codable {
        public var termsOfService: String?
        public var website: String?
        public var caaIdentities: [String]?
        public var externalAccountRequired: Bool?
        /// Profile name -> description or URL.
        public var profiles: [String: String]?

        public init(
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

    public init(
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
