import Foundation
import Logging
import NIOSSL
import PostgresNIO

/// The PostgreSQL connection pool (postgres-nio's `PostgresClient`) behind every PostgreSQL store type, with the
/// operation timeout and the error mapping they share.
///
/// ``run()`` must be running (a ServiceLifecycle service in the daemon, a task in commands and tests) for queries to
/// get a connection. Each operation is bounded by `operationTimeout`: an unreachable database becomes
/// ``PostgresStoreError/unavailable(url:operation:reason:)`` instead of a hang.
package final class StoreDatabase: Sendable {
    package let settings: PostgresConnectionSettings
    let client: PostgresClient
    let logger: Logger
    package let operationTimeout: Duration
    /// `"schema"` spliced into statements (validated by ``PostgresConnectionSettings/isValidSchemaName(_:)``).
    let schema: String

    package init(
        settings: PostgresConnectionSettings, logger: Logger, operationTimeout: Duration = .seconds(15),
        maximumConnections: Int = 8, connectionIdleTimeout: Duration = .seconds(120)
    ) throws {
        guard PostgresConnectionSettings.isValidSchemaName(settings.schema) else {
            throw PostgresStoreError.refused(
                url: settings.displayURL, operation: "use schema \(settings.schema)",
                reason: "a schema name is lower-case letters, digits and _, starting with a letter or _")
        }
        self.settings = settings
        self.logger = logger
        self.operationTimeout = operationTimeout
        self.schema = "\"\(settings.schema)\""
        let tls: PostgresClient.Configuration.TLS
        switch settings.tls {
        case .disable:
            tls = .disable
        case .verifyFull(let caFile):
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .fullVerification
            if let caFile {
                configuration.trustRoots = .file(caFile)
            }
            tls = .require(try NIOSSLContext(configuration: configuration).configuration)
        }
        var configuration = PostgresClient.Configuration(
            host: settings.host, port: settings.port, username: settings.username, password: settings.password,
            database: settings.database, tls: tls)
        configuration.options.connectTimeout = .seconds(5)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectionIdleTimeout = connectionIdleTimeout
        configuration.options.additionalStartupParameters = [("application_name", "certkeeper")]
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
    }

    /// Runs the pool until the calling task is cancelled.
    package func run() async {
        await client.run()
    }

    /// Runs `body` with the pool, bounded by the operation timeout; errors become ``PostgresStoreError``.
    @discardableResult
    func withClient<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = self.client
        return try await bounded(operation) { try await body(client) }
    }

    /// Runs `body` in a transaction (committed when it returns, rolled back when it throws), bounded by the timeout.
    @discardableResult
    func transaction<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = self.client
        let logger = self.logger
        return try await bounded(operation) {
            try await client.withConnection { connection in
                try await connection.withTransaction(logger: logger) { connection in try await body(connection) }
            }
        }
    }

    private func bounded<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let timeout = operationTimeout
        do {
            return try await withThrowingTaskGroup(of: T.self) { group in
                group.addTask { try await body() }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    throw PostgresStoreError.TimeoutError()
                }
                defer { group.cancelAll() }
                guard let first = try await group.next() else { throw CancellationError() }
                return first
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw PostgresStoreError.translate(error, url: settings.displayURL, operation: operation)
        }
    }

    /// Decoding failure of a stored row.
    func corrupt(_ what: String, _ error: any Error) -> PostgresStoreError {
        .corrupt(url: settings.displayURL, what: what, reason: "\(error)")
    }
}
