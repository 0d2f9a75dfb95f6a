import ACMECrypto
import Foundation

/// What a certificate cannot say about itself: the in-flight order, failures and backoff, ARI and the chosen
/// renewal time. The issued certificate and key live in the installed files; a pending (not yet installed) key is
/// stored separately (``CertificateStateStore/savePendingKey(name:pem:)``).
public struct CertificateState: Codable, Sendable, Hashable {
    /// The certificate name from config.
    public var name: String
    /// The in-flight order, persisted as soon as newOrder answers so a restart resumes it.
    public var orderURL: String?
    /// The account that created ``orderURL``.
    public var orderAccountURL: String?
    /// The identifiers ``orderURL`` was created for (a config change makes the order stale).
    public var orderDomains: [String]?
    /// The key type of the pending key for ``orderURL``.
    public var orderKeyType: KeyType?
    /// Consecutive failed attempts since the last success.
    public var failureCount: Int
    /// How many of those ended with a transient fault (the short ladder); the rest were refusals (the long ladder).
    /// Absent in state files written before it existed: read as 0.
    public var transientFailureCount: Int?
    /// The last error, as shown to the operator (never secrets).
    public var lastError: String?
    /// The ACME problem type of the last error, if any (`urn:ietf:params:acme:error:...`).
    public var lastErrorType: String?
    public var lastFailure: Date?
    /// Backoff: no attempt before this time.
    public var nextAttempt: Date?
    /// When the currently installed certificate was issued by us.
    public var lastIssued: Date?
    /// ARI `Retry-After`: do not poll renewalInfo before this time.
    public var ariRetryAfter: Date?
    public var ariWindowStart: Date?
    public var ariWindowEnd: Date?
    /// The randomly chosen renewal time, kept so a restart does not re-roll it.
    public var scheduledRenewal: Date?
    /// The ARI CertID of the certificate this order replaces (RFC 9773 `replaces`).
    public var replacesCertID: String?
    /// When the CA refused the EAB (operator action needed before retrying account creation).
    public var eabRefusedAt: Date?
    /// The CA directory URL that issued the installed certificate (a config change to another CA forces a renewal).
    public var issuerDirectoryURL: String?
    /// The account name that issued the installed certificate.
    public var accountName: String?
    /// Serial (hex) of the certificate ``scheduledRenewal`` was chosen for; a new serial re-rolls the time.
    public var scheduledSerial: String?
    /// When the daemon next looks at this certificate (shown by `status`, reused after a restart).
    public var nextCheck: Date?
    /// A digest of the spec ``nextCheck`` was computed for; a different spec means "check now".
    public var specFingerprint: String?

    public init(
        name: String, orderURL: String? = nil, orderAccountURL: String? = nil, orderDomains: [String]? = nil,
        orderKeyType: KeyType? = nil, failureCount: Int = 0, lastError: String? = nil, lastErrorType: String? = nil,
        lastFailure: Date? = nil, nextAttempt: Date? = nil, lastIssued: Date? = nil, ariRetryAfter: Date? = nil,
        ariWindowStart: Date? = nil, ariWindowEnd: Date? = nil, scheduledRenewal: Date? = nil,
        replacesCertID: String? = nil, eabRefusedAt: Date? = nil, issuerDirectoryURL: String? = nil,
        accountName: String? = nil, scheduledSerial: String? = nil, nextCheck: Date? = nil,
        specFingerprint: String? = nil
    ) {
        self.name = name
        self.orderURL = orderURL
        self.orderAccountURL = orderAccountURL
        self.orderDomains = orderDomains
        self.orderKeyType = orderKeyType
        self.failureCount = failureCount
        self.lastError = lastError
        self.lastErrorType = lastErrorType
        self.lastFailure = lastFailure
        self.nextAttempt = nextAttempt
        self.lastIssued = lastIssued
        self.ariRetryAfter = ariRetryAfter
        self.ariWindowStart = ariWindowStart
        self.ariWindowEnd = ariWindowEnd
        self.scheduledRenewal = scheduledRenewal
        self.replacesCertID = replacesCertID
        self.eabRefusedAt = eabRefusedAt
        self.issuerDirectoryURL = issuerDirectoryURL
        self.accountName = accountName
        self.scheduledSerial = scheduledSerial
        self.nextCheck = nextCheck
        self.specFingerprint = specFingerprint
    }
}
