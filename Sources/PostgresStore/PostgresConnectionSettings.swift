import Foundation

/// Where the PostgreSQL store lives and how to reach it, resolved from `[store]` (the password already read from its
/// file or credential). Never printed whole: ``displayURL`` leaves the password out.
package struct PostgresConnectionSettings: Sendable, Hashable {
    /// How the connection is protected.
    package enum TLSMode: Sendable, Hashable {
        /// Plain TCP (loopback or a trusted network only).
        case disable
        /// TLS required; the server's certificate must chain to `caFile` (PEM) or, when nil, to the system roots, and
        /// name `host` (libpq's `sslmode=verify-full`).
        case verifyFull(caFile: String?)
    }

    package var host: String
    package var port: Int
    package var username: String
    package var database: String
    package var password: String?
    package var tls: TLSMode
    /// The schema certkeeper creates and keeps its tables in (PostgreSQL 15 lets an ordinary role create nothing in
    /// `public`).
    package var schema: String

    package init(
        host: String, port: Int = 5432, username: String, database: String, password: String?, tls: TLSMode,
        schema: String = "certkeeper"
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.database = database
        self.password = password
        self.tls = tls
        self.schema = schema
    }

    /// `postgresql://USER@HOST:PORT/DATABASE`, for messages (no password, no query).
    package var displayURL: String {
        let hostPart = host.contains(":") ? "[\(host)]" : host
        return "postgresql://\(username)@\(hostPart):\(port)/\(database)"
    }

    /// True for a name PostgreSQL accepts unquoted: it is spliced into statements as an identifier.
    package static func isValidSchemaName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.utf8.count <= 63 else { return false }
        guard ("a"..."z").contains(first) || first == "_" else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
