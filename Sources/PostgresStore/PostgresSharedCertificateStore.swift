import CertStore
import Foundation
import PostgresNIO
import SafeFiles

/// ``SharedCertificateStore`` on PostgreSQL: table `certificates`, one row per name (the key sealed), and a
/// notification on ``channel`` with the name as payload whenever one is published.
package struct PostgresSharedCertificateStore: SharedCertificateStore {
    let database: StoreDatabase
    let sealer: SecretSealer

    package init(database: StoreDatabase, sealer: SecretSealer) {
        self.database = database
        self.sealer = sealer
    }

    /// The LISTEN/NOTIFY channel of this schema's fleet.
    package var channel: String { "certkeeper_" + database.settings.schema }

    static func keyContext(_ name: String, serial: String) -> String { "key of certificate \(name) serial \(serial)" }

    package func latest(name: String) async throws -> SharedCertificate? {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        let rows = try await database.withClient("read the fleet's certificate \(name)") { client in
            var rows: [(String, String, String, Date, String)] = []
            for try await row in try await client.query(
                """
                SELECT serial, fullchain_pem, key_sealed, not_after, published_by
                FROM \(unescaped: schema).certificates WHERE name = \(name)
                """
            ).decode((String, String, String, Date, String).self) {
                rows.append(row)
            }
            return rows
        }
        guard let (serial, fullchain, sealed, notAfter, publishedBy) = rows.first else { return nil }
        return SharedCertificate(
            name: name, serial: serial, fullchainPEM: fullchain,
            keyPEM: try sealer.open(sealed, context: Self.keyContext(name, serial: serial)), notAfter: notAfter,
            publishedBy: publishedBy)
    }

    package func publish(_ certificate: SharedCertificate) async throws {
        let name = certificate.name
        try StateName.validate(name, kind: "certificate name")
        let sealed = try sealer.seal(certificate.keyPEM, context: Self.keyContext(name, serial: certificate.serial))
        let schema = database.schema
        let channel = self.channel
        try await database.fencedTransaction("publish the certificate \(name)", certificate: name) { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: schema).certificates
                    (name, serial, fullchain_pem, key_sealed, not_after, published_by)
                VALUES (\(name), \(certificate.serial), \(certificate.fullchainPEM), \(sealed), \(certificate.notAfter),
                        \(certificate.publishedBy))
                ON CONFLICT (name) DO UPDATE SET serial = EXCLUDED.serial, fullchain_pem = EXCLUDED.fullchain_pem,
                    key_sealed = EXCLUDED.key_sealed, not_after = EXCLUDED.not_after,
                    published_by = EXCLUDED.published_by, published_at = now()
                """, logger: .quiet)
            // Delivered at commit, to every node listening.
            try await connection.query("SELECT pg_notify(\(channel), \(name))", logger: .quiet)
        }
    }

    package func publishedSerials() async throws -> [String: String] {
        let schema = database.schema
        return try await database.withClient("list the fleet's certificates") { client in
            var serials: [String: String] = [:]
            for try await (name, serial) in try await client.query(
                "SELECT name, serial FROM \(unescaped: schema).certificates"
            ).decode((String, String).self) {
                serials[name] = serial
            }
            return serials
        }
    }

    package func remove(name: String) async throws -> Bool {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        return try await database.fencedTransaction("remove the fleet's certificate \(name)", certificate: name) {
            connection in
            var removed = false
            for try await _ in try await connection.query(
                "DELETE FROM \(unescaped: schema).certificates WHERE name = \(name) RETURNING 1", logger: .quiet
            ).decode(Int.self) {
                removed = true
            }
            return removed
        }
    }

    /// Names published by any node, as they are published, until the calling task is cancelled; throws when the
    /// connection is lost (the caller reconnects after a pause and re-checks everything).
    package func changes(_ onChange: @escaping @Sendable (String) async -> Void) async throws {
        let channel = self.channel
        let client = database.client
        do {
            try await client.withConnection { connection in
                try await connection.listen(on: channel) { notifications in
                    for try await notification in notifications {
                        await onChange(notification.payload)
                    }
                }
            }
        } catch {
            if Task.isCancelled { throw CancellationError() }
            throw PostgresStoreError.translate(
                error, url: database.settings.displayURL, operation: "listen for new certificates")
        }
    }
}
