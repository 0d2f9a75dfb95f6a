public import Foundation

/// An ACME challenge object (RFC 8555 §7.1.5, §8).
public struct Challenge: Sendable, Hashable, Codable {
    /// `http-01`, `dns-01`, `tls-alpn-01`, ...
    public var type: String
    /// The challenge URL: POST `{}` here to respond.
    public var url: String
    public var status: ChallengeStatus
    /// The token; validate it with `TokenValidation.isBase64URLToken` before using it in a path or file name.
    public var token: String?
    public var validated: Date?
    public var error: ACMEProblem?

    public init(
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

    public static let http01 = "http-01"
    public static let dns01 = "dns-01"
    public static let tlsALPN01 = "tls-alpn-01"
}
