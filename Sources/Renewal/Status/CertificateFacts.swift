import CertStore
import Foundation

/// What a status row needs to know of one certificate beyond the scheduler's view: the installed certificate's
/// expiry and the failures its state records.
package struct CertificateFacts: Sendable, Hashable {
    /// Expiry of the installed certificate; nil when none is installed (or it cannot be read).
    package var notAfter: Date?
    /// When the state file says to look again (nil without state).
    package var nextCheck: Date?
    package var failureCount: Int
    package var lastError: String?
    package var retryAt: Date?
    /// The renewal time chosen for the installed certificate (inside the ARI window when the CA gave one).
    package var renewAt: Date?
    /// The CA answered a renewalInfo question about the installed certificate.
    package var hasARIAdvice: Bool
    /// The root the installed chain leads to (its topmost issuer's Common Name).
    package var chainRoot: String?

    package init(notAfter: Date?, chainRoot: String? = nil, state: CertificateState?) {
        self.chainRoot = chainRoot
        self.renewAt = state?.schedule?.renewAt
        self.hasARIAdvice = state?.ari != nil
        self.notAfter = notAfter
        self.nextCheck = state?.nextCheck
        self.failureCount = state?.failureCount ?? 0
        self.lastError = state?.backoff?.lastError
        self.retryAt = state?.backoff?.retryAt
    }
}
