import CertkeeperConfig
import Foundation

/// When to renew and how long to back off: pure functions of their inputs (time and randomness are parameters).
package enum RenewalPolicy {
    /// The ARI suggested window (RFC 9773 §4.2).
    package struct Window: Sendable, Hashable, Codable {
        package var start: Date
        package var end: Date
        package init(start: Date, end: Date) {
            self.start = start
            self.end = end
        }
        /// A window whose end is not after its start is invalid and must be ignored.
        package var isValid: Bool { end > start }
    }

    /// The start of the renewal window without ARI: when `renewBefore` remains, or a third of the lifetime
    /// (half for certificates living under 10 days, as Let's Encrypt advises).
    package static func windowStart(notBefore: Date, notAfter: Date, renewBefore: RenewBefore?) -> Date {
        let lifetime = max(notAfter.timeIntervalSince(notBefore), 1)
        switch renewBefore {
        case .seconds(let seconds):
            // A `renew_before` as long as the lifetime (e.g. "30d" on 6-day certificates) would make every new
            // certificate due at once, a renewal loop: never renew before a tenth of the lifetime has passed.
            return max(notAfter.addingTimeInterval(-Double(seconds)), notBefore.addingTimeInterval(lifetime / 10))
        case .fraction(let fraction):
            return notAfter.addingTimeInterval(-lifetime * fraction)
        case nil:
            let remaining = lifetime < 10 * 86_400 ? lifetime / 2 : lifetime / 3
            return notAfter.addingTimeInterval(-remaining)
        }
    }

    /// The maximum jitter applied before the window start: 1/20 of the lifetime, capped at 24 hours.
    package static func jitterSpan(notBefore: Date, notAfter: Date) -> TimeInterval {
        min(max(notAfter.timeIntervalSince(notBefore), 0) / 20, 86_400)
    }

    /// The renewal time for a certificate.
    ///
    /// With a valid ARI window: a uniformly random time inside it. Otherwise the window start moved earlier by a
    /// random amount up to ``jitterSpan(notBefore:notAfter:)``, so certificates issued together do not renew together.
    package static func renewalTime<R: RandomNumberGenerator>(
        notBefore: Date, notAfter: Date, renewBefore: RenewBefore?, ariWindow: Window?, random: inout R
    ) -> Date {
        if let ariWindow, ariWindow.isValid {
            let span = ariWindow.end.timeIntervalSince(ariWindow.start)
            return ariWindow.start.addingTimeInterval(Double.random(in: 0...span, using: &random))
        }
        let start = windowStart(notBefore: notBefore, notAfter: notAfter, renewBefore: renewBefore)
        let jitter = jitterSpan(notBefore: notBefore, notAfter: notAfter)
        return start.addingTimeInterval(-Double.random(in: 0...jitter, using: &random))
    }

    /// How long to wait before taking a certificate's lock again when another process held it.
    package static let lockBusyRetryDelay: TimeInterval = 60

    /// How long to wait before reading a certificate's unreadable state file again.
    package static let unreadableStateRetryDelay: TimeInterval = 3600
    /// After the shared store (PostgreSQL) could not be reached: soon, it is an outage, not bad data.
    package static let storeOutageRetryDelay: TimeInterval = 30

    /// First retry delay after a failure.
    package static let backoffBase: TimeInterval = 60
    /// No certificate waits longer than this between attempts (unless the CA's Retry-After says so).
    package static let backoffCap: TimeInterval = 86_400

    /// Delay before the next attempt after `failureCount` consecutive failures (1 = first failure):
    /// 1 min × 4^(n-1) with ±20 % jitter, capped at 24 h; never shorter than the CA's `retryAfter`.
    package static func backoff<R: RandomNumberGenerator>(
        failureCount: Int, retryAfter: TimeInterval?, random: inout R
    ) -> TimeInterval {
        let exponent = Double(max(failureCount, 1) - 1)
        let raw = min(backoffBase * pow(4, min(exponent, 20)), backoffCap)
        let jittered = min(raw * Double.random(in: 0.8...1.2, using: &random), backoffCap)
        return max(jittered, retryAfter ?? 0)
    }

    /// The longest a CA's `Retry-After` may postpone one certificate's next attempt.
    package static let retryAfterCap: TimeInterval = 86_400

    /// When a certificate enters the last tenth of its life (notAfter - lifetime/10): no `Retry-After` postpones an
    /// attempt beyond it.
    package static func lastTenthStart(notBefore: Date, notAfter: Date) -> Date {
        notAfter.addingTimeInterval(-max(notAfter.timeIntervalSince(notBefore), 0) / 10)
    }

    /// Delay before the next attempt after a refusal: ``backoff(failureCount:retryAfter:random:)`` with the CA's
    /// `retryAfter` honoured as ``honouredRetryAfter(_:installed:now:)`` allows.
    package static func nextAttemptDelay<R: RandomNumberGenerator>(
        failureCount: Int, retryAfter: TimeInterval?, installed: (notBefore: Date, notAfter: Date)?, now: Date,
        random: inout R
    ) -> TimeInterval {
        backoff(
            failureCount: failureCount, retryAfter: honouredRetryAfter(retryAfter, installed: installed, now: now),
            random: &random)
    }

    /// The CA's `retryAfter` up to ``retryAfterCap`` and never past ``lastTenthStart(notBefore:notAfter:)`` of the
    /// installed certificate (`installed`, when there is one).
    package static func honouredRetryAfter(
        _ retryAfter: TimeInterval?, installed: (notBefore: Date, notAfter: Date)?, now: Date
    ) -> TimeInterval {
        var honoured = min(max(retryAfter ?? 0, 0), retryAfterCap)
        if let installed {
            let limit = lastTenthStart(notBefore: installed.notBefore, notAfter: installed.notAfter)
            honoured = min(honoured, max(limit.timeIntervalSince(now), 0))
        }
        return honoured
    }

    /// First retry after an attempt ended by a transient fault.
    package static let transientBase: TimeInterval = 10
    /// No transient fault postpones the next attempt longer than this (unless the CA's Retry-After says so).
    package static let transientCap: TimeInterval = 3600

    /// Delay before the next attempt after a transient fault (a CA error, a dropped connection, a request budget
    /// spent): 10 s × 2^(n-1) with ±20 % jitter, capped at an hour; never shorter than the honoured `retryAfter`.
    /// The next attempt continues the same order.
    package static func transientRetryDelay<R: RandomNumberGenerator>(
        failureCount: Int, retryAfter: TimeInterval?, installed: (notBefore: Date, notAfter: Date)?, now: Date,
        random: inout R
    ) -> TimeInterval {
        let exponent = Double(max(failureCount, 1) - 1)
        let raw = min(transientBase * pow(2, min(exponent, 20)), transientCap)
        let jittered = min(raw * Double.random(in: 0.8...1.2, using: &random), transientCap)
        return max(jittered, honouredRetryAfter(retryAfter, installed: installed, now: now))
    }

    /// When to poll ARI again: the server's Retry-After clamped to [1 min, 1 day], or 6 h without one (RFC 9773 §4.3).
    package static func ariRecheckDelay(retryAfter: TimeInterval?) -> TimeInterval {
        guard let retryAfter else { return 6 * 3600 }
        return min(max(retryAfter, 60), 86_400)
    }
}
