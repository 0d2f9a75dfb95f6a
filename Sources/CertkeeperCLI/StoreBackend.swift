import CertStore
import CertkeeperConfig
import ChallengeSolvers
import Foundation
import Logging
import PostgresStore
import Renewal

/// The stores `[store]` selects: the state directory on this host, or a PostgreSQL database shared by a fleet
/// (accounts, certificate state, leases and the fleet's certificates, keys sealed with the operator's key).
struct StoreBackend: Sendable {
    let accounts: any AccountStore
    let states: any CertificateStateStore
    let locks: any LockManager
    /// The fleet's certificates (PostgreSQL only).
    let shared: PostgresSharedCertificateStore?
    /// The fleet's http-01 tokens (PostgreSQL only).
    let tokens: PostgresTokenTable?
    /// Each node's view of each spec (PostgreSQL only).
    let specs: PostgresFleetSpecRegistry?
    /// `[store] http01_address`.
    let http01Address: String?
    /// The pool (PostgreSQL only); ``start(waiting:)`` runs it.
    let database: StoreDatabase?
    /// The keys private keys are sealed with (PostgreSQL only).
    var sealer: SecretSealer? = nil
    /// This node in leases and published certificates.
    let nodeName: String
    /// Where the store is, for messages.
    let location: String
    let logger: Logger
    /// Whether the database answered its last operation (PostgreSQL only; status, status line, metrics).
    var health = StoreHealth()

    /// Where the state of the certificate `name` is kept, for messages.
    func stateLocation(of name: String) -> String {
        database == nil ? "\(location)/certs/\(name)" : "the state of \(name) in \(location)"
    }

    static func open(
        _ settings: StoreSettings, stateDirectory: String, secrets: SecretReader, logger: Logger
    ) throws -> StoreBackend {
        switch settings {
        case .files:
            return StoreBackend(
                accounts: FileAccountStore(stateDirectory: stateDirectory),
                states: FileCertificateStateStore(stateDirectory: stateDirectory),
                locks: ProcessLockManager(stateDirectory: stateDirectory), shared: nil, tokens: nil, specs: nil,
                http01Address: nil, database: nil,
                nodeName: ProcessInfo.processInfo.hostName, location: stateDirectory, logger: logger)
        case .postgresql(let postgres):
            let password = try postgres.password.map {
                String(decoding: try secrets.read($0, what: "the PostgreSQL password"), as: UTF8.self)
                    .trimmingCharacters(in: .newlines)
            }
            let keySource = postgres.encryptionKey
            let current = try SecretSealer.Key(
                fileContents: try secrets.read(keySource, what: "the store's encryption key"),
                path: Self.describe(keySource))
            let previous = try postgres.previousEncryptionKeyFiles.map {
                try SecretSealer.Key(
                    fileContents: try secrets.read(.file($0), what: "a previous encryption key"), path: $0)
            }
            let connection = PostgresConnectionSettings(
                host: postgres.host, port: postgres.port, username: postgres.user, database: postgres.database,
                password: password,
                tls: postgres.tls == .disable ? .disable : .verifyFull(caFile: postgres.tlsCAFile),
                schema: postgres.schema)
            let health = StoreHealth()
            // postgres-nio says why a connection could not be made (refused, TLS verification) at info; its
            // per-statement logs go to a logger that drops them (they would carry the parameters).
            let database = try StoreDatabase(
                settings: connection, logger: logger.withLevel(.info),
                onOutcome: { error in
                    if let error { health.failed(error, now: Date()) } else { health.answered() }
                })
            let sealer = SecretSealer(current: current, previous: previous)
            let owner = LeaseLockManager.makeOwner(nodeName: postgres.nodeName)
            let lease = Duration.seconds(postgres.leaseSeconds)
            var backend = StoreBackend(
                accounts: PostgresAccountStore(database: database, sealer: sealer),
                states: PostgresCertificateStateStore(database: database, sealer: sealer),
                locks: LeaseLockManager(database: database, owner: owner, ttl: lease, maxWait: lease, logger: logger),
                shared: PostgresSharedCertificateStore(database: database, sealer: sealer),
                tokens: PostgresTokenTable(database: database), specs: PostgresFleetSpecRegistry(database: database),
                http01Address: postgres.http01Address,
                database: database,
                nodeName: owner, location: connection.displayURL + " (schema \(postgres.schema))", logger: logger)
            backend.sealer = sealer
            backend.health = health
            return backend
        }
    }

    private static func describe(_ source: SecretSource) -> String {
        switch source {
        case .file(let path): return path
        case .credential(let name): return "credential \(name)"
        }
    }

    /// PostgreSQL: runs the pool (until the returned task is cancelled) and brings the schema up to date, retrying
    /// while the database cannot be reached (`waiting` is told each failure). Files: nothing.
    func start(waiting: @escaping @Sendable (any Error) -> Void = { _ in }) async throws -> Task<Void, Never>? {
        guard let database else { return nil }
        let pool = Task { await database.run() }
        let migrator = SchemaMigrator(database: database)
        var delay: Duration = .seconds(2)
        while true {
            do {
                try await migrator.migrate()
                return pool
            } catch let error as PostgresStoreError where error.isOutage {
                waiting(error)
                do {
                    try await Task.sleep(for: delay)
                } catch {
                    pool.cancel()
                    throw error
                }
                delay = min(delay * 2, .seconds(60))
            } catch {
                pool.cancel()
                throw error
            }
        }
    }
}

extension StoreBackend {
    /// The relay that makes built-in http-01 tokens answered by every node (PostgreSQL only).
    var relay: HTTP01TokenRelay? {
        guard let tokens else { return nil }
        let node = nodeName
        let logger = self.logger
        return HTTP01TokenRelay(
            publish: { task, address in
                try await tokens.publish(
                    PostgresTokenTable.Token(
                        token: task.token, keyAuthorization: task.keyAuthorization, domain: task.domain,
                        address: address, node: node))
                // The CA may ask any node as soon as the challenge is answered: wait until every live node does.
                let missing = try await tokens.waitForAcknowledgements(
                    token: task.token, node: node, timeout: Self.acknowledgementTimeout)
                if !missing.isEmpty {
                    logger.warning(
                        "nodes \(missing.joined(separator: ", ")) did not confirm answering the http-01 token for \(task.domain) within \(Self.acknowledgementTimeout); validation may fail if the CA asks them"
                    )
                }
            },
            withdraw: { token in try await tokens.withdraw(token) })
    }

    /// Runs the mirror of the other nodes' tokens until cancelled (PostgreSQL only).
    func mirrorTokens(
        pool: HTTP01ResponderPool, ownAddresses: @escaping @Sendable () async -> Set<String>, clock: any DaemonClock,
        logger: Logger
    ) async {
        guard let tokens else { return }
        let node = nodeName
        let mirror = HTTP01TokenMirror(
            pool: pool, address: http01Address, ownAddresses: ownAddresses,
            acknowledge: { token in try await tokens.acknowledge(token: token, node: node) }, logger: logger)
        let heartbeat = Task {
            while !Task.isCancelled {
                let wasUp = health.isUp
                do {
                    try await tokens.heartbeat(node: node)
                    if !wasUp { logger.notice("the store answers again") }
                } catch {
                    if wasUp { logger.warning("cannot record this node as live in the store: \(error)") }
                }
                try? await clock.sleep(until: clock.now().addingTimeInterval(10))
            }
        }
        defer { heartbeat.cancel() }
        try? await tokens.heartbeat(node: node)
        await mirror.run(
            list: {
                try await tokens.all().filter { $0.node != node }.map {
                    HTTP01TokenMirror.Token(
                        token: $0.token, keyAuthorization: $0.keyAuthorization, domain: $0.domain, address: $0.address)
                }
            },
            listen: { onConnected, onChange in
                try await tokens.changes(onConnected: onConnected) { _ in await onChange() }
            }, clock: clock)
        heartbeat.cancel()
        // Shutdown cancelled this task; the statement runs in one of its own so it is not cancelled with it.
        await Task { try? await tokens.leave(node: node) }.value
    }

    /// How long a node placing an http-01 token waits for the others to answer it.
    static let acknowledgementTimeout: Duration = .seconds(5)
}

/// Runs `body` with the store `[store]` of the configuration in `directories` selects (the state directory when
/// there is no certkeeper.toml or it has no `[store]`), its connection pool running for the body's duration: what the
/// commands that read or change accounts and state outside the daemon use, so on a fleet they see the database.
func withConfiguredStore<T: Sendable>(
    _ directories: Directories, _ body: (StoreBackend) async throws -> T
) async throws -> T {
    let result = ConfigLoader().load(configDirectory: directories.config)
    if result.configuration == nil, FileManager.default.fileExists(atPath: directories.config + "/certkeeper.toml") {
        FileHandle.standardError.write(Data((formatDiagnostics(result.allDiagnostics) + "\n").utf8))
        throw CertificateToolError(
            "\(directories.config)/certkeeper.toml has errors: the store it names cannot be known; fix them first")
    }
    let backend = try StoreBackend.open(
        result.configuration?.store ?? .files, stateDirectory: directories.state, secrets: SecretReader(),
        logger: Logger(label: "certkeeper"))
    guard let database = backend.database else { return try await body(backend) }
    let pool = Task { await database.run() }
    defer { pool.cancel() }
    try await SchemaMigrator(database: database).migrate()
    return try await body(backend)
}
