import Foundation

/// An ACME challenge object (RFC 8555 §7.1.5, §8).
package struct Challenge: Sendable, Hashable, Codable {
    /// `http-01`, `dns-01`, `tls-alpn-01`, ...
    package var type: String
    /// The challenge URL: POST `{}` here to respond.
    package var url: String
    package var status: ChallengeStatus
    /// The token; validate it with `TokenValidation.isBase64URLToken` before using it in a path or file name.
    package var token: String?
    package var validated: Date?
    package var error: ACMEProblem?

    package init(
        type: String,
        url: String,
        status: ChallengeStatus,
        token: String? = nil,
        validated: Date? = nil,
        error: ACMEProblem? = nil
    ) {
        self.type = type
        self.url = url
        self.status = status
        self.token = token
        self.validated = validated
        self.error = error
    }

    package static let http01 = "http-01"
    package static let dns01 = "dns-01"
    package static let tlsALPN01 = "tls-alpn-01"
}
