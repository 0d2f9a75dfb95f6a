import ACMEModels

/// Client-side failures that are not ACME problem documents (those are thrown as `ACMEProblem`).
package enum ACMEClientError: Error, Sendable, CustomStringConvertible {
    /// The server could not be reached (after retries for transient faults).
    case transport(HTTPTransportError, attempts: Int)
    /// An error status without a problem document.
    case unexpectedStatus(url: String, status: Int, body: String)
    /// A response we could not use (bad JSON, missing `Location`, ...).
    case invalidResponse(url: String, reason: String)
    /// Polling did not reach a final state within the timeout.
    case timeout(url: String, lastStatus: String, waited: Duration)
    /// Key rollover: the new key already belongs to another account (409 + Location).
    case keyInUse(url: String, existingAccount: String?)
    /// The CA does not offer a feature (e.g. ARI without `renewalInfo` in the directory).
    case notSupported(directoryURL: String, feature: String)

    /// On one line and bounded: bodies and decoding errors carry text the server wrote.
    package var description: String {
        UntrustedText.sanitized(text, maxBytes: UntrustedText.messageLimit)
    }

    private var text: String {
        switch self {
        case .transport(let error, let attempts):
            return "cannot reach the ACME server: \(error) (after \(attempts) attempt(s)); check network, DNS and the "
                + "directory URL"
        case .unexpectedStatus(let url, let status, let body):
            return "ACME server answered HTTP \(status) for \(url) without a problem document: \(body)"
        case .invalidResponse(let url, let reason):
            return "unusable ACME response from \(url): \(reason)"
        case .timeout(let url, let lastStatus, let waited):
            return "\(url) still \(lastStatus) after polling for \(waited.components.seconds) s"
        case .keyInUse(let url, let existing):
            return "key rollover at \(url) refused: the new key already belongs to account \(existing ?? "(unknown)")"
        case .notSupported(let directoryURL, let feature):
            return "the CA at \(directoryURL) does not support \(feature)"
        }
    }
}
