import ChallengeSolvers
import Foundation
import Logging

/// Answers, on this node, the http-01 tokens other nodes of the fleet placed: every notification (and every
/// reconnection) re-reads the live tokens and registers or unregisters them in this node's built-in responder.
///
/// Where: `[store] http01_address` when set; otherwise the address the placing node answers on, but only when this
/// node's own specs listen there too (a row in the database never makes a node open a port it was not told to).
package actor HTTP01TokenMirror {
    /// A token another node placed.
    package struct Token: Sendable, Hashable {
        package var token: String
        package var keyAuthorization: String
        package var domain: String
        /// Where the placing node answers it (used here unless this node has an address of its own).
        package var address: String

        package init(token: String, keyAuthorization: String, domain: String, address: String) {
            self.token = token
            self.keyAuthorization = keyAuthorization
            self.domain = domain
            self.address = address
        }
    }

    private let pool: HTTP01ResponderPool
    /// `[store] http01_address`: where this node answers the fleet's tokens (nil: where the placing node does).
    private let address: String?
    /// The addresses this node's own http-01 specs listen on (read at every change: reloads change them).
    private let ownAddresses: @Sendable () async -> Set<String>
    /// Tokens not answered because their address is none of this node's (reported once each).
    private var refused: Set<String> = []
    private let logger: Logger
    /// Told each token this node now answers (the placing node waits for every live node's acknowledgement).
    private let acknowledge: @Sendable (String) async throws -> Void
    /// Registered here, by token, with the address used.
    private var mirrored: [String: (token: Token, address: String)] = [:]
    /// Mirrored tokens whose acknowledgement has not been recorded yet (retried at every reconcile).
    private var unacknowledged: Set<String> = []

    package init(
        pool: HTTP01ResponderPool, address: String?, ownAddresses: @escaping @Sendable () async -> Set<String>,
        acknowledge: @escaping @Sendable (String) async throws -> Void, logger: Logger
    ) {
        self.ownAddresses = ownAddresses
        self.acknowledge = acknowledge
        self.pool = pool
        self.address = address
        self.logger = logger
    }

    /// The tokens registered here for other nodes.
    package var mirroredTokens: Set<String> { Set(mirrored.keys) }

    /// Makes the responder answer exactly `live` (the other nodes' tokens).
    package func reconcile(_ live: [Token]) async {
        let wanted = Dictionary(live.map { ($0.token, $0) }) { first, _ in first }
        for (token, entry) in mirrored where wanted[token] != entry.token {
            try? await pool.unregister(token: token, on: entry.address)
            mirrored[token] = nil
            unacknowledged.remove(token)
        }
        refused.formIntersection(wanted.keys)
        let allowed = address == nil ? await ownAddresses() : []
        for (token, entry) in wanted.sorted(by: { $0.key < $1.key }) where mirrored[token] == nil {
            let target = address ?? entry.address
            guard address != nil || allowed.contains(target) else {
                if refused.insert(token).inserted {
                    logger.warning(
                        "not answering another node's http-01 token for \(entry.domain): it is answered on \(target), where none of this node's specs listen; give every node the same listen address, or set [store] http01_address"
                    )
                }
                continue
            }
            do {
                try await pool.register(
                    token: token, keyAuthorization: entry.keyAuthorization, domain: entry.domain, on: target)
                mirrored[token] = (entry, target)
                unacknowledged.insert(token)
                logger.debug("answering another node's http-01 token for \(entry.domain) on \(target)")
            } catch {
                logger.warning("cannot answer another node's http-01 token for \(entry.domain) on \(target): \(error)")
            }
        }
        await acknowledgePending()
    }

    /// Records the acknowledgements not recorded yet.
    private func acknowledgePending() async {
        for token in unacknowledged.sorted() {
            do {
                try await acknowledge(token)
                unacknowledged.remove(token)
            } catch {
                logger.warning("cannot acknowledge another node's http-01 token (retried): \(error)")
                return
            }
        }
    }

    /// Stops answering every mirrored token (shutdown).
    package func clear() async {
        await reconcile([])
    }

    /// Keeps the responder in step until cancelled: `listen` calls its first argument once connected and its second
    /// at every change; `list` reads the live tokens of the other nodes. Listens again after `reconnectDelay` when
    /// the connection is lost.
    package func run(
        list: @escaping @Sendable () async throws -> [Token],
        listen:
            @escaping @Sendable (
                _ onConnected: @escaping @Sendable () async -> Void, _ onChange: @escaping @Sendable () async -> Void
            ) async throws -> Void,
        clock: any DaemonClock, reconnectDelay: TimeInterval = 2
    ) async {
        let refresh: @Sendable () async -> Void = { [weak self] in
            guard let self else { return }
            do {
                await self.reconcile(try await list())
            } catch {
                self.logger.warning("cannot read the fleet's http-01 tokens: \(error)")
            }
        }
        while !Task.isCancelled {
            do {
                try await listen(refresh, refresh)
            } catch {
                if Task.isCancelled { break }
                logger.warning("not hearing about other nodes' http-01 tokens (\(error)); listening again")
            }
            do {
                try await clock.sleep(until: clock.now().addingTimeInterval(reconnectDelay))
            } catch {
                break
            }
        }
        await clear()
    }
}
