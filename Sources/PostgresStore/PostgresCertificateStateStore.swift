import CertStore
import Foundation
import PostgresNIO
import SafeFiles

/// ``CertificateStateStore`` on PostgreSQL: one row per certificate in `certificate_state` (the state as the same JSON
/// the file store writes, and the pending order key sealed by ``SecretSealer``), shared by every node of a fleet, so
/// a node that takes over a certificate's lease finds the order URL and key another node left. Writes made under the
/// certificate's lease are fenced (``StoreDatabase/fencedTransaction(_:certificate:_:)``): refused once the lease is
/// not this node's.
package struct PostgresCertificateStateStore: CertificateStateStore {
    let database: StoreDatabase
    let sealer: SecretSealer

    package init(database: StoreDatabase, sealer: SecretSealer) {
        self.database = database
        self.sealer = sealer
    }

    static func pendingKeyContext(_ name: String) -> String { "pending order key of certificate \(name)" }

    package func load(name: String) async throws -> CertificateState? {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        let json = try await database.withClient("read the state of \(name)") { client in
            var json: String?
            for try await text in try await client.query(
                "SELECT state FROM \(unescaped: schema).certificate_state WHERE name = \(name)"
            ).decode(String?.self) {
                json = text
            }
            return json
        }
        guard let json else { return nil }
        do {
            return try StateJSON.decode(
                CertificateState.self, from: Array(json.utf8),
                path: database.settings.displayURL + "#certificate_state/" + name)
        } catch {
            throw database.corrupt("the state of \(name)", error)
        }
    }

    package func save(_ state: CertificateState) async throws {
        let name = state.name
        try StateName.validate(name, kind: "certificate name")
        let json = String(decoding: try StateJSON.encode(state), as: UTF8.self)
        let schema = database.schema
        try await database.fencedTransaction("save the state of \(name)", certificate: name) { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: schema).certificate_state (name, state) VALUES (\(name), \(json))
                ON CONFLICT (name) DO UPDATE SET state = EXCLUDED.state, updated = now()
                """, logger: .quiet)
        }
    }

    /// Every write is one statement in the database's own log: nothing to gain from writing behind.
    package func saveRecomputable(_ state: CertificateState) async throws { try await save(state) }
    package func flushRecomputable() async throws {}

    package func savePendingKey(name: String, pem: String) async throws {
        try StateName.validate(name, kind: "certificate name")
        let sealed = try sealer.seal(pem, context: Self.pendingKeyContext(name))
        let schema = database.schema
        try await database.fencedTransaction("save the pending key of \(name)", certificate: name) { connection in
            try await connection.query(
                """
                INSERT INTO \(unescaped: schema).certificate_state (name, pending_key_sealed) VALUES (\(name), \(sealed))
                ON CONFLICT (name) DO UPDATE SET pending_key_sealed = EXCLUDED.pending_key_sealed, updated = now()
                """, logger: .quiet)
        }
    }

    package func pendingKey(name: String) async throws -> String? {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        let sealed = try await database.withClient("read the pending key of \(name)") { client in
            var sealed: String?
            for try await text in try await client.query(
                "SELECT pending_key_sealed FROM \(unescaped: schema).certificate_state WHERE name = \(name)"
            ).decode(String?.self) {
                sealed = text
            }
            return sealed
        }
        return try sealed.map { try sealer.open($0, context: Self.pendingKeyContext(name)) }
    }

    package func clearPendingKey(name: String) async throws {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        try await database.fencedTransaction("clear the pending key of \(name)", certificate: name) { connection in
            try await connection.query(
                "UPDATE \(unescaped: schema).certificate_state SET pending_key_sealed = NULL, updated = now() WHERE name = \(name)",
                logger: .quiet)
            try await connection.query(
                "DELETE FROM \(unescaped: schema).certificate_state WHERE name = \(name) AND state IS NULL",
                logger: .quiet)
        }
    }

    package func allNames() async throws -> [String] {
        let schema = database.schema
        return try await database.withClient("list certificate states") { client in
            var names: [String] = []
            for try await name in try await client.query(
                "SELECT name FROM \(unescaped: schema).certificate_state ORDER BY name COLLATE \"C\""
            ).decode(String.self) {
                names.append(name)
            }
            return names
        }
    }

    package func remove(name: String) async throws {
        try StateName.validate(name, kind: "certificate name")
        let schema = database.schema
        try await database.fencedTransaction("remove the state of \(name)", certificate: name) { connection in
            try await connection.query(
                "DELETE FROM \(unescaped: schema).certificate_state WHERE name = \(name)", logger: .quiet)
        }
    }
}
