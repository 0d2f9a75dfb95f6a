/// Answers tls-alpn-01 (RFC 8737) from certkeeper's own TLS listener, through a shared ``TLSALPN01ResponderPool``.
///
/// The CA connects to port 443 of the domain, so `address` is normally `0.0.0.0:443` or `[::]:443`
/// (needs CAP_NET_BIND_SERVICE and a free port 443), or a port that port 443 is forwarded to.
package struct TLSALPN01Solver: ChallengeSolver {
    /// Where the listener binds, e.g. `0.0.0.0:443`.
    package var address: String
    /// The pool that owns the listener.
    package var pool: TLSALPN01ResponderPool

    /// - Parameters:
    ///   - address: `IPV4:PORT` or `[IPV6]:PORT`.
    ///   - pool: The daemon-wide pool; defaults to ``TLSALPN01ResponderPool/shared``.
    package init(address: String, pool: TLSALPN01ResponderPool = .shared) {
        self.address = address
        self.pool = pool
    }

    package func present(_ task: ChallengeTask) async throws {
        if task.wildcard {
            throw ResponderError(
                kind: .unsupportedIdentifier,
                description: "tls-alpn-01 cannot validate the wildcard *.\(task.domain); use dns-01 for it"
            )
        }
        try await self.pool.register(domain: task.domain, keyAuthorization: task.keyAuthorization, on: self.address)
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        if task.wildcard { return }
        try await self.pool.unregister(domain: task.domain, keyAuthorization: task.keyAuthorization, on: self.address)
    }
}
