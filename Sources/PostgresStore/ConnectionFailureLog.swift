import Foundation
import Logging
import Synchronization

/// Why postgres-nio's pool could not open a connection, as it last said: the pool retries connections in the
/// background and logs the cause (refused, TLS verification failed, password rejected) at info, while the operation
/// waiting for a connection only times out. ``StoreDatabase`` puts this cause into the timeout's error, so `status`,
/// the journal and the commands say "TLS: certificate verify failed" instead of "no answer".
final class ConnectionFailureLog: Sendable {
    private let last = Mutex<String?>(nil)

    /// The last cause recorded since the last successful operation.
    var cause: String? { last.withLock { $0 } }

    func record(_ cause: String) { last.withLock { $0 = cause } }
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
        if cause.contains("CERTIFICATE_VERIFY_FAILED") || cause.contains("handshakeFailed") {
            text +=
                "; the server's TLS certificate was not accepted: check tls_ca_file and that the certificate names the host in url"
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
            if let error = event.metadata?["psql_error"] { log.record("\(error)") }
            inner.handler.log(event: event)
        }
    }
}
