/// Answers http-01 from certkeeper's own listener (no web server needed), through a shared ``HTTP01ResponderPool``.
///
/// The CA connects to port 80 of the domain, so `address` is normally `0.0.0.0:80` or `[::]:80`
/// (which needs CAP_NET_BIND_SERVICE), or a high port that a firewall rule or proxy forwards port 80 to.
package struct BuiltinHTTP01Solver: ChallengeSolver {
    /// Where the listener binds, e.g. `0.0.0.0:80`.
    package var address: String
    /// The pool that owns the listener.
    package var pool: HTTP01ResponderPool

    /// - Parameters:
    ///   - address: `IPV4:PORT` or `[IPV6]:PORT`.
    ///   - pool: The daemon-wide pool; defaults to ``HTTP01ResponderPool/shared``.
    package init(address: String, pool: HTTP01ResponderPool = .shared) {
        self.address = address
        self.pool = pool
    }

    package func present(_ task: ChallengeTask) async throws {
        try await self.pool.register(
            token: task.token,
            keyAuthorization: task.keyAuthorization,
            domain: task.domain,
            on: self.address
        )
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        let token = try ChallengeToken(task.token, domain: task.domain)
        try await self.pool.unregister(token: token.value, on: self.address)
    }
}
