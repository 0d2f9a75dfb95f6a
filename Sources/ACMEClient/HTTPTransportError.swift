/// A failure below HTTP (no response was received).
package struct HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; ``isTransient`` depends on it.
    package enum Kind: String, Sendable, Hashable {
        case connectionRefused
        case connectionReset
        case timeout
        case tls
        case dns
        case other
    }

    package var kind: Kind
    package var url: String
    package var message: String

    package init(kind: Kind, url: String, message: String) {
        self.kind = kind
        self.url = url
        self.message = message
    }

    /// Refused, reset and timed-out connections are retried by the client.
    package var isTransient: Bool {
        switch kind {
        case .connectionRefused, .connectionReset, .timeout: return true
        case .tls, .dns, .other: return false
        }
    }

    package var description: String { "\(kind.rawValue) talking to \(url): \(message)" }
}
