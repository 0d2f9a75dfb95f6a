import CertkeeperConfig
import Foundation

/// Told how each renewal attempt ended: a certificate installed, or a failure. Attempts that only looked (nothing
/// due, an ARI check) are not reported. Metrics implement it.
package protocol RenewalObserver: Sendable {
    func renewalAttempt(_ spec: CertificateSpec, succeeded: Bool, at: Date)
}
