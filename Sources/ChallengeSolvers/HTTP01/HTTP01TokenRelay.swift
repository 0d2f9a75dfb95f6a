/// Shares http-01 tokens with the other nodes of a fleet, so whichever node the CA's validation reaches behind a load
/// balancer answers (the PostgreSQL store's token table and its notifications, in production).
package struct HTTP01TokenRelay: Sendable {
    /// Makes `task`'s token known to every node, to be answered on `address` (or the node's own fleet address).
    package var publish: @Sendable (_ task: ChallengeTask, _ address: String) async throws -> Void
    /// Withdraws a token from every node.
    package var withdraw: @Sendable (_ token: String) async throws -> Void

    package init(
        publish: @escaping @Sendable (ChallengeTask, String) async throws -> Void,
        withdraw: @escaping @Sendable (String) async throws -> Void
    ) {
        self.publish = publish
        self.withdraw = withdraw
    }
}

/// The built-in responder for a fleet: the token is answered here and, through the ``HTTP01TokenRelay``, by every
/// other node.
package struct FleetHTTP01Solver: ChallengeSolver {
    package var local: BuiltinHTTP01Solver
    package var relay: HTTP01TokenRelay

    package init(local: BuiltinHTTP01Solver, relay: HTTP01TokenRelay) {
        self.local = local
        self.relay = relay
    }

    package func present(_ task: ChallengeTask) async throws {
        try await local.present(task)
        do {
            try await relay.publish(task, local.address)
        } catch {
            try? await local.cleanUp(task)
            throw error
        }
    }

    package func cleanUp(_ task: ChallengeTask) async throws {
        // Both always: a failure of one must not leave the other answering.
        var failure: (any Error)?
        do { try await relay.withdraw(task.token) } catch { failure = error }
        do { try await local.cleanUp(task) } catch { failure = failure ?? error }
        if let failure { throw failure }
    }
}
