/// One challenge to be answered: what the CA asked for, for one identifier.
public struct ChallengeTask: Sendable, Hashable {
    /// The identifier as the authorization names it (no `*.` prefix), e.g. `example.com`.
    public var domain: String
    /// True when the authorization is for `*.domain`.
    public var wildcard: Bool
    /// `http-01`, `dns-01` or `tls-alpn-01`.
    public var type: String
    /// The challenge token; validated as base64url before it reaches a solver.
    public var token: String
    /// `token + "." + thumbprint` (RFC 8555 §8.1).
    public var keyAuthorization: String

    public init(domain: String, wildcard: Bool, type: String, token: String, keyAuthorization: String) {
        self.domain = domain
        self.wildcard = wildcard
        self.type = type
        self.token = token
        self.keyAuthorization = keyAuthorization
    }
}

/// A way of proving control of a name (lego's challenge.Provider, typed).
///
/// The issuer calls `present`, then `waitUntilVisible`, then tells the CA to validate,
/// and calls `cleanUp` as soon as the authorization is settled, whether it became valid or invalid,
/// and also after `present` or `waitUntilVisible` threw.
public protocol ChallengeSolver: Sendable {
    /// Makes the challenge response available (writes a token file, adds a TXT record, ...).
    func present(_ task: ChallengeTask) async throws
    /// Returns once the response is visible to the CA (e.g. every authoritative DNS server serves it).
    func waitUntilVisible(_ task: ChallengeTask) async throws
    /// Removes exactly what `present` added.
    func cleanUp(_ task: ChallengeTask) async throws
}

extension ChallengeSolver {
    public func waitUntilVisible(_ task: ChallengeTask) async throws {}
}
