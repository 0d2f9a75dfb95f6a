/// One challenge to be answered: what the CA asked for, for one identifier.
package struct ChallengeTask: Sendable, Hashable {
    /// The identifier as the authorization names it (no `*.` prefix), e.g. `example.com`.
    package var domain: String
    /// True when the authorization is for `*.domain`.
    package var wildcard: Bool
    /// `http-01`, `dns-01` or `tls-alpn-01`.
    package var type: String
    /// The challenge token; validated as base64url before it reaches a solver.
    package var token: String
    /// `token + "." + thumbprint` (RFC 8555 §8.1).
    package var keyAuthorization: String

    package init(domain: String, wildcard: Bool, type: String, token: String, keyAuthorization: String) {
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
package protocol ChallengeSolver: Sendable {
    /// Makes the challenge response available (writes a token file, adds a TXT record, ...).
    func present(_ task: ChallengeTask) async throws
    /// Returns once the response is visible to the CA (e.g. every authoritative DNS server serves it).
    func waitUntilVisible(_ task: ChallengeTask) async throws
    /// Removes exactly what `present` added.
    func cleanUp(_ task: ChallengeTask) async throws
}

extension ChallengeSolver {
    package func waitUntilVisible(_ task: ChallengeTask) async throws {}
}
