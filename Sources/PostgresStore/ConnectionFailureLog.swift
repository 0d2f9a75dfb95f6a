import Foundation
import Logging
import Synchronization

/// Why postgres-nio's pool could not open a connection, as it last said: the pool retries connections in the
/// background and logs the cause (refused, TLS verification failed, password rejected) at info, while the operation
/// waiting for a connection only times out. ``StoreDatabase`` puts this cause into the timeout's error, so `status`,
/// the journal and the commands say "TLS: certificate verify failed" instead of "no answer".
final class ConnectionFailureLog: Sendable {
    private let last = Mutex<(cause: String, at: ContinuousClock.Instant)?>(nil)

    /// The message postgres-nio's pool logs when it could not open a connection: the only one recorded (other
    /// messages' errors may quote a statement and its parameters).
    static let connectFailedMessage = "Connection creation failed"

    /// The last cause recorded since `instant` (the start of the operation that timed out: an older failure is not
    /// why this one did) and since the last successful operation.
    func cause(since instant: ContinuousClock.Instant) -> String? {
        last.withLock { last in last.flatMap { $0.at >= instant ? $0.cause : nil } }
    }

    func record(_ cause: String) { last.withLock { $0 = (cause, ContinuousClock.now) } }
    func clear() { last.withLock { $0 = nil } }

    /// A logger that passes everything on to `logger` and records the `psql_error` of "Connection creation failed".
    func recording(into logger: Logger) -> Logger {
        var wrapped = Logger(label: logger.label) { _ in Handler(inner: logger, log: self) }
        wrapped.logLevel = logger.logLevel
        return wrapped
    }

    /// What to tell an operator about `cause` (the pool's error description), with what to check.
    static func explain(_ cause: String) -> String {
        var text = "the last connection attempt failed: \(cause)"
        if cause.contains("failedToValidateHostname") {
            text += "; the server's TLS certificate does not name the host in url: use a name (or address) it has"
        } else if cause.contains("CERTIFICATE_VERIFY_FAILED") || cause.contains("handshakeFailed") {
            text += "; the server's TLS certificate was not accepted: check tls_ca_file (the CA that signed it)"
        } else if cause.contains("28P01") || cause.contains("password authentication failed") {
            text += "; the password was refused: check password_file and the user in url"
        } else if cause.contains("Connection refused") {
            text += "; nothing listens there: check the host and port in url and that PostgreSQL runs"
        }
        return text
    }

    private struct Handler: LogHandler {
        var inner: Logger
        let log: ConnectionFailureLog

        var metadata: Logger.Metadata {
            get { inner.handler.metadata }
            set { inner.handler.metadata = newValue }
        }
        var logLevel: Logger.Level {
            get { inner.logLevel }
            set { inner.logLevel = newValue }
        }
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { inner[metadataKey: key] }
            set { inner[metadataKey: key] = newValue }
        }

        func log(event: LogEvent) {
            if event.message.description == ConnectionFailureLog.connectFailedMessage,
                let error = event.metadata?["psql_error"]
            {
                log.record("\(error)")
            }
            inner.handler.log(event: event)
        }
    }
}
