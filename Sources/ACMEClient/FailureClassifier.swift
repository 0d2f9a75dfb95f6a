import ACMEModels
import Foundation

/// Decides, for every failure, what happens next (``FailureDisposition``). The client asks it after every failed
/// request (``request(response:problem:budget:now:)``, ``request(transportError:budget:)``); the renewal engine asks
/// it after every failed attempt (``attempt(_:)``). Pure functions of their inputs: tested table by table.
package enum FailureClassifier {
    /// How much of a request's retry budget is spent.
    package struct RequestBudget: Sendable, Hashable {
        /// When the request was first sent.
        package var started: Date
        /// `badNonce` answers so far.
        package var badNonceRetries = 0
        /// Sends so far that met a transient fault (5xx, a dropped connection, ...).
        package var transientFaults = 0

        package init(started: Date) {
            self.started = started
        }
    }

    /// `badNonce` is retried until this much time has passed since the request was first sent (lego's approach)...
    package static let badNonceBudget: TimeInterval = 30
    /// ...and at most this many times, so a clock that does not move cannot loop for ever.
    package static let maxBadNonceRetries = 100
    /// Transient faults retried inside one request (waits of 0.25, 0.5, 1, 2, 4, 8 s: about 16 s in all).
    package static let maxTransientRetries = 6
    /// The longest `Retry-After` waited for inside one request; a longer one ends the attempt.
    package static let maxRequestRetryAfter: Duration = .seconds(10)

    /// The wait before `badNonce` retry `n` (1-based): none for the first four (a nonce lost to a busy CA), then
    /// 50 ms doubling to 1 s, so a CA or proxy that rejects every nonce is not hammered for 30 s.
    package static func badNonceDelay(retry: Int) -> Duration {
        guard retry > 4 else { return .zero }
        return min(.milliseconds(50 << min(retry - 5, 5)), .seconds(1))
    }

    /// The wait before transient retry `n` (1-based): 0.25 s doubling, at most 8 s.
    package static func transientDelay(retry: Int) -> Duration {
        .milliseconds(250 << max(0, min(retry - 1, 5)))
    }

    /// After an HTTP response that is not a success: retry now, retry after a delay, or end the attempt.
    package static func request(
        response: HTTPResponseData, problem: ACMEProblem?, budget: RequestBudget, now: Date
    ) -> FailureDisposition {
        if problem?.type == .badNonce {
            let elapsed = now.timeIntervalSince(budget.started)
            if budget.badNonceRetries < maxBadNonceRetries, elapsed < badNonceBudget { return .retryRequestNow }
            return .retryAttemptSoon
        }
        let retryAfter = response.header("Retry-After").flatMap { RetryAfter.parse($0, now: now) }
        let transient: Bool
        switch response.status {
        case 429: transient = retryAfter != nil
        case 500..<600: transient = true
        default: transient = false
        }
        let givingUp = problem.map(problemDisposition) ?? statusDisposition(response.status)
        guard transient, budget.transientFaults < maxTransientRetries else { return givingUp }
        if let retryAfter { return retryAfter <= maxRequestRetryAfter ? .retryRequestAfter(retryAfter) : givingUp }
        return .retryRequestAfter(transientDelay(retry: budget.transientFaults + 1))
    }

    /// After a request that got no response at all.
    ///
    /// - Parameter resendable: false for a request the CA may have carried out although the reply was lost
    ///   (finalize, a challenge answer): after a dropped or timed-out connection it is not sent again blindly; the
    ///   caller looks at the order or authorization first. A refused connection never reached the CA.
    package static func request(
        transportError: HTTPTransportError, budget: RequestBudget, resendable: Bool = true
    ) -> FailureDisposition {
        guard transportError.isTransient else { return transportDisposition(transportError) }
        if !resendable, transportError.kind != .connectionRefused { return .retryAttemptSoon }
        guard budget.transientFaults < maxTransientRetries else { return .retryAttemptSoon }
        // A dropped keep-alive connection is retried at once on a new one; further faults wait.
        if transportError.kind == .connectionReset, budget.transientFaults == 0 { return .retryRequestAfter(.zero) }
        return .retryRequestAfter(transientDelay(retry: budget.transientFaults + 1))
    }

    /// After a failed attempt: whether the next one comes soon, after the long backoff, or after a reload.
    package static func attempt(_ error: any Error) -> FailureDisposition {
        switch error {
        case let problem as ACMEProblem: return problemDisposition(problem)
        case let clientError as ACMEClientError: return clientErrorDisposition(clientError)
        case let transportError as HTTPTransportError: return transportDisposition(transportError)
        case let classified as any ClassifiedFailure: return classified.failureDisposition
        case is CancellationError: return .retryAttemptSoon  // shutdown or the job deadline; never resent

        default: return .backOff
        }
    }

    /// An ACME problem that ended an attempt.
    package static func problemDisposition(_ problem: ACMEProblem) -> FailureDisposition {
        switch problem.type {
        // Transient by nature: the request budget ran out, or the CA was busy or in the middle of something.
        case .badNonce, .serverInternal, .orderNotReady, .alreadyReplaced:
            return .retryAttemptSoon
        // Nothing changes until the operator does: terms, contact, EAB, key or profile settings.
        case .userActionRequired, .agreementRequired, .externalAccountRequired, .invalidContact,
            .unsupportedContact, .badPublicKey, .badSignatureAlgorithm, .invalidProfile:
            return .waitForReload
        // The CA refused or a validation failed: rateLimited, unauthorized, rejectedIdentifier, caa, dns,
        // connection, incorrectResponse, tls, malformed, badCSR, accountDoesNotExist, compound, unknown types.
        default:
            if let status = problem.status, (500..<600).contains(status) { return .retryAttemptSoon }
            return .backOff
        }
    }

    private static func statusDisposition(_ status: Int) -> FailureDisposition {
        (500..<600).contains(status) ? .retryAttemptSoon : .backOff
    }

    private static func clientErrorDisposition(_ error: ACMEClientError) -> FailureDisposition {
        switch error {
        case .transport(let transportError, _): return transportDisposition(transportError)
        case .unexpectedStatus(_, let status, _): return statusDisposition(status)
        // The order is still being validated or issued: the next attempt continues it.
        case .timeout: return .retryAttemptSoon
        case .invalidResponse, .keyInUse: return .backOff
        case .notSupported: return .waitForReload
        }
    }

    private static func transportDisposition(_ error: HTTPTransportError) -> FailureDisposition {
        switch error.kind {
        // The network or the CA is down or flaky; a name that does not resolve is usually the same (resolver
        // restart, network not up yet).
        case .connectionRefused, .connectionReset, .timeout, .dns: return .retryAttemptSoon
        // A certificate or protocol mismatch does not fix itself in seconds.
        case .tls, .other: return .backOff
        }
    }
}
