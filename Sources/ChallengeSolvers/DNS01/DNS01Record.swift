import ACMECrypto
import DNSWire

/// The TXT record a dns-01 challenge needs (RFC 8555 §8.4).
package enum DNS01Record {
    /// `_acme-challenge.<domain>` (a leading `*.` is dropped: a wildcard is validated at its base name).
    package static func name(for domain: String) throws -> DNSName {
        let base = domain.hasPrefix("*.") ? String(domain.dropFirst(2)) : domain
        return try DNSName(base).prepending("_acme-challenge")
    }

    /// base64url(SHA-256(keyAuthorization)) without padding: 43 characters.
    package static func value(keyAuthorization: String) -> String {
        KeyAuthorization.dns01Value(keyAuthorization)
    }
}

/// A dns-01 solver failed; says which solver, which domain and what to do.
package struct DNS01SolverError: Error, Sendable, Hashable, CustomStringConvertible {
    /// `rfc2136` or `exec`.
    package var solver: String
    package var domain: String
    package var reason: String

    package init(solver: String, domain: String, reason: String) {
        self.solver = solver
        self.domain = domain
        self.reason = reason
    }

    package var description: String { "dns-01 (\(solver)) for \(domain): \(reason)" }
}
