import Foundation
import Logging
import NIOSSL
import PostgresNIO
import Synchronization

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
    /// Told how each operation ended: nil when the database answered, the error when it could not be reached (the
    /// daemon's store health: status, status line, metrics).
    let onOutcome: (@Sendable (PostgresStoreError?) -> Void)?
    /// Why the pool last failed to open a connection (it retries in the background; an operation only times out).
    let connectionFailures = ConnectionFailureLog()

    package init(
        settings: PostgresConnectionSettings, logger: Logger, operationTimeout: Duration = .seconds(15),
        maximumConnections: Int = 8, connectionIdleTimeout: Duration = .seconds(120),
        onOutcome: (@Sendable (PostgresStoreError?) -> Void)? = nil
    ) throws {
        self.onOutcome = onOutcome
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
        // The server ends a statement that outlives the client's own deadline too (and an abandoned transaction).
        let milliseconds = operationTimeout.components.seconds * 1000
        configuration.options.additionalStartupParameters = [
            ("application_name", "certkeeper"), ("statement_timeout", "\(milliseconds)"),
            ("idle_in_transaction_session_timeout", "\(milliseconds * 2)"),
        ]
        self.client = PostgresClient(
            configuration: configuration, backgroundLogger: connectionFailures.recording(into: logger))
    }

    /// Runs the pool until the calling task is cancelled.
    package func run() async {
        await client.run()
    }

    /// Runs `body` with the pool, bounded by `timeout` (default: the operation timeout); errors become
    /// ``PostgresStoreError``.
    @discardableResult
    func withClient<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = self.client
        return try await bounded(operation, timeout: timeout) { try await body(client) }
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

    /// Runs `body`, giving up after `timeout` (default: the operation timeout). Not a task group: a statement
    /// postgres-nio has sent cannot be cancelled, and a group would wait for it; here the caller gets its answer at
    /// the deadline and the abandoned statement ends (or its connection dies) on its own.
    private func bounded<T: Sendable>(
        _ operation: String, timeout: Duration? = nil, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let limit = timeout ?? operationTimeout
        let started = ContinuousClock.now
        let outcome = Outcome<T>()
        let work = Task { outcome.finish(await Result { try await body() }) }
        let timer = Task {
            try? await Task.sleep(for: limit)
            outcome.finish(.failure(PostgresStoreError.TimeoutError()))
        }
        let result = await withTaskCancellationHandler {
            await outcome.value()
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
        work.cancel()
        timer.cancel()
        switch result {
        case .success(let value):
            connectionFailures.clear()
            onOutcome?(nil)
            return value
        case .failure(let error):
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            var translated = PostgresStoreError.translate(error, url: settings.displayURL, operation: operation)
            // Timed out waiting for a connection the pool could not open: say why it could not.
            if error is PostgresStoreError.TimeoutError, let cause = connectionFailures.cause(since: started) {
                translated = PostgresStoreError.unavailable(
                    url: settings.displayURL, operation: operation,
                    reason: "no answer within the operation timeout; " + ConnectionFailureLog.explain(cause))
            }
            if let storeError = translated as? PostgresStoreError, storeError.isOutage { onOutcome?(storeError) }
            throw translated
        }
    }

    /// Decoding failure of a stored row.
    func corrupt(_ what: String, _ error: any Error) -> PostgresStoreError {
        .corrupt(url: settings.displayURL, what: what, reason: "\(error)")
    }
}

/// The first of a result, a timeout or a cancellation, delivered once to one waiter.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var result: Result<T, any Error>?
        var waiter: CheckedContinuation<Result<T, any Error>, Never>?
    }
    private let state = Mutex(State())

    func finish(_ result: Result<T, any Error>) {
        let waiter: CheckedContinuation<Result<T, any Error>, Never>? = state.withLock { state in
            guard state.result == nil else { return nil }
            state.result = result
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: result)
    }

    func value() async -> Result<T, any Error> {
        await withCheckedContinuation { continuation in
            let ready: Result<T, any Error>? = state.withLock { state in
                if let result = state.result { return result }
                state.waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}

extension Result where Failure == any Error {
    /// The result of an async throwing body.
    fileprivate init(_ body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
