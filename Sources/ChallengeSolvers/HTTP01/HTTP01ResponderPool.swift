import NIOCore
import NIOHTTP1
import NIOPosix

/// The daemon-wide built-in http-01 responder: one listener per address, open only while it has live tokens.
///
/// The first ``register(token:keyAuthorization:domain:on:)`` for an address binds it; the ``unregister(token:on:)``
/// that removes its last token closes it, so nothing listens while no challenge is pending. Several solvers
/// (certificates) on the same address share one listener. All listeners run on one shared event loop group.
///
/// Each listener holds at most ``ResponderLimits/maxConnections`` connections, closes each at its deadline, and
/// answers as soon as a request head has arrived (a body is never waited for).
package actor HTTP01ResponderPool {
    /// The pool the daemon uses.
    package static let shared = HTTP01ResponderPool()

    private let registry: ListenerRegistry<HTTP01Response>

    /// - Parameters:
    ///   - group: The event loop group for the listeners; defaults to the process-wide singleton.
    ///   - limits: Connection cap and per-connection deadline of each listener.
    package init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, limits: ResponderLimits = ResponderLimits()
    ) {
        self.registry = ListenerRegistry { address, table in
            try await Self.bind(address, table: table, group: group, limits: limits)
        }
    }

    /// Starts answering `token` with `keyAuthorization` on `address`, binding it if nothing listens there yet.
    ///
    /// - Parameters:
    ///   - token: The challenge token (validated here).
    ///   - keyAuthorization: The body to serve.
    ///   - domain: The identifier being validated, for error messages.
    ///   - address: Where to listen, e.g. `0.0.0.0:80`, `[::]:80`, `127.0.0.1:5002`.
    /// - Throws: ``InvalidChallengeTokenError``, or ``ResponderError`` when the address is malformed or cannot
    ///   be bound (the message names the address, and for ports below 1024 mentions CAP_NET_BIND_SERVICE).
    package func register(token: String, keyAuthorization: String, domain: String, on address: String) async throws {
        let token = try ChallengeToken(token, domain: domain)
        let address = try ListenAddress(address)
        let response = HTTP01Response(keyAuthorization: keyAuthorization, domain: domain)
        let added = try await self.registry.register(token.value, response, on: address)
        guard added else {
            throw ResponderError(
                kind: .conflictingChallenge,
                description: "http-01 responder on \(address): token \(token) for \(domain) is already registered "
                    + "with a different key authorization; this is a CA or account mix-up, retry the order"
            )
        }
    }

    /// Stops answering `token` on `address`; closes the listener when it was the last token there.
    package func unregister(token: String, on address: String) async throws {
        let token = try ChallengeToken(token, domain: "")
        let address = try ListenAddress(address)
        await self.registry.unregister(token.value, on: address) { _ in true }
    }

    /// The port actually bound on `address` (useful with port 0), or nil when nothing listens there.
    package func boundPort(on address: String) async throws -> Int? {
        await self.registry.boundPort(on: try ListenAddress(address))
    }

    /// The connection counters of the listener on `address`, or nil when nothing listens there.
    package func connectionStatistics(on address: String) async throws -> ResponderConnectionStatistics? {
        guard let listener = await self.registry.listener(on: try ListenAddress(address)) else { return nil }
        return await ConnectionLimitHandler.statistics(of: listener)
    }

    /// Closes every listener and forgets every token (daemon shutdown).
    package func shutdown() async {
        await self.registry.closeAll()
    }

    private static func bind(
        _ address: ListenAddress,
        table: ResponderTable<HTTP01Response>,
        group: any EventLoopGroup,
        limits: ResponderLimits
    ) async throws -> any Channel {
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ConnectionLimitHandler(limits: limits))
                }
            }
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let sync = channel.pipeline.syncOperations
                    try HTTP01Connection.configure(sync, table: table)
                }
            }
            .childChannelOption(.maxMessagesPerRead, value: 1)
        do {
            return try await bootstrap.bind(host: address.host, port: address.port).get()
        } catch let error as IOError {
            throw ResponderError.bindFailed("http-01", address: address, errno: error.errnoCode, underlying: "\(error)")
        } catch {
            throw ResponderError.bindFailed("http-01", address: address, errno: nil, underlying: "\(error)")
        }
    }
}
