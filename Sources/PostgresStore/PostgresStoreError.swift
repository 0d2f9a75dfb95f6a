import CertStore
import Foundation
import PostgresNIO

/// What went wrong talking to the PostgreSQL store. Every case names the database (``PostgresConnectionSettings/displayURL``,
/// never the password) and what was being done; none carries key material or statement parameters.
package enum PostgresStoreError: StoreBackendError, Sendable, Hashable, CustomStringConvertible {
    /// The database could not be reached or did not answer in time: an outage, retried with backoff.
    case unavailable(url: String, operation: String, reason: String)
    /// The server refused a statement.
    case refused(url: String, operation: String, reason: String)
    /// The schema was migrated by a newer certkeeper than this one.
    case schemaTooNew(url: String, schema: String, found: Int, supported: Int)
    /// A stored row could not be decoded.
    case corrupt(url: String, what: String, reason: String)

    package var description: String {
        switch self {
        case .unavailable(let url, let operation, let reason):
            return
                "PostgreSQL store \(url) unavailable while trying to \(operation): \(reason); what is installed keeps being served and certkeeper retries"
        case .refused(let url, let operation, let reason):
            return "PostgreSQL store \(url) refused to \(operation): \(reason)"
        case .schemaTooNew(let url, let schema, let found, let supported):
            return
                "PostgreSQL store \(url): schema \(schema) is at version \(found), newer than this certkeeper understands (\(supported)); upgrade certkeeper on this node"
        case .corrupt(let url, let what, let reason):
            return "PostgreSQL store \(url): cannot read \(what): \(reason)"
        }
    }

    /// True when the database was unreachable (as opposed to refusing or holding bad data).
    package var isOutage: Bool {
        if case .unavailable = self { return true }
        return false
    }

    /// Maps an error from postgres-nio to one that says what happened without the statement's parameters; errors the
    /// store's own code threw inside an operation (``CertStoreError``, ``SealingError``, ...) pass through unchanged.
    static func translate(_ error: any Error, url: String, operation: String) -> any Error {
        if let transaction = error as? PostgresTransactionError {
            if let inner = transaction.closureError ?? transaction.beginError ?? transaction.commitError {
                return translate(inner, url: url, operation: operation)
            }
            return PostgresStoreError.unavailable(url: url, operation: operation, reason: "transaction failed")
        }
        if error is PostgresStoreError || error is CancellationError { return error }
        if error is PSQLError || error is TimeoutError { return from(error, url: url, operation: operation) }
        // The pool's own errors (circuit breaker tripped, shut down) are outages too.
        if String(reflecting: type(of: error)).contains("ConnectionPool") {
            return PostgresStoreError.unavailable(url: url, operation: operation, reason: "\(error)")
        }
        return error
    }

    /// Maps a postgres-nio error (``translate(_:url:operation:)`` decides which errors are).
    static func from(_ error: any Error, url: String, operation: String) -> PostgresStoreError {
        if let error = error as? PostgresStoreError { return error }
        if let psql = error as? PSQLError {
            if psql.code == .server, let info = psql.serverInfo {
                let state = info[.sqlState] ?? "?"
                let message = info[.message] ?? "no message"
                // Class 08 (connection), 53 (resources), 57P0x (shutdown, crash recovery): the server is going away.
                if state.hasPrefix("08") || state.hasPrefix("53") || state.hasPrefix("57P") {
                    return .unavailable(url: url, operation: operation, reason: "\(message) (SQLSTATE \(state))")
                }
                var reason = "\(message) (SQLSTATE \(state))"
                if state == "28P01" || state == "28000" {
                    reason += "; check the user name and the password file"
                } else if state == "42501" {
                    reason += "; the role needs its own schema, or CREATE on the database to make it (docs/fleet.md)"
                }
                return .refused(url: url, operation: operation, reason: reason)
            }
            var reason = psql.code.description
            if let underlying = psql.underlying { reason += ": \(underlying)" }
            return .unavailable(url: url, operation: operation, reason: reason)
        }
        if error is TimeoutError {
            return .unavailable(url: url, operation: operation, reason: "no answer within the operation timeout")
        }
        return .unavailable(url: url, operation: operation, reason: "\(error)")
    }

    /// Thrown internally when an operation outlives its timeout.
    struct TimeoutError: Error {}
}
