/// A failure below HTTP (no response was received).
public struct HTTPTransportError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure; ``isTransient`` depends on it.
    public enum Kind: String, Sendable, Hashable {
        case connectionRefused
        case connectionReset
        case timeout
        case tls
        case dns
        case other
    }

    public var kind: Kind
    public var url: String
    public var message: String

    public init(kind: Kind, url: String, message: String) {
        self.kind = kind
        self.url = url
        self.message = message
    }

    /// Refused, reset and timed-out connections are retried by the client.
    public var isTransient: Bool {
        switch kind {
        case .connectionRefused, .connectionReset, .timeout: return true
        case .tls, .dns, .other: return false
        }
    }

    public var description: String { "\(kind.rawValue) talking to \(url): \(message)" }
}
