/// What happens after a failure: the one vocabulary of ``FailureClassifier``.
package enum FailureDisposition: Sendable, Hashable {
    /// Send the same request again at once, with a fresh nonce (`badNonce` within its time budget).
    case retryRequestNow
    /// Send the same request again after the delay, on a new connection when the last one failed: a 5xx, a
    /// refused, dropped or timed-out connection, a short `Retry-After`.
    case retryRequestAfter(Duration)
    /// The attempt fails and the next one follows soon (seconds to minutes, capped at an hour), continuing the
    /// same order: a fault transient by nature outlasted the request's budget.
    case retryAttemptSoon
    /// The CA refused (rate limit, unauthorized, rejected identifier, an invalid authorization, CAA, ...): the
    /// long backoff ladder (1 min ×4 up to 24 h), the CA's `Retry-After` honoured.
    case backOff
    /// Nothing changes until the configuration does (a config problem, a spent EAB key): wait for a reload.
    case waitForReload

    /// Whether the disposition ends the attempt (as opposed to retrying one request inside it).
    package var endsAttempt: Bool {
        switch self {
        case .retryRequestNow, .retryRequestAfter: return false
        case .retryAttemptSoon, .backOff, .waitForReload: return true
        }
    }
}

/// Errors outside the ACME client (order, account, install, store) say which disposition they call for; the
/// conformances of the daemon's own error types live together in Renewal's `FailureClassification.swift`.
package protocol ClassifiedFailure: Error {
    var failureDisposition: FailureDisposition { get }
}
