import CertStore
import Foundation
import PostgresNIO

/// Re-seals every sealed value of the store with the current key (`certkeeper store reseal`), the last step of a key
/// rotation: afterwards the previous keys can be dropped from `previous_encryption_key_files`. Values already sealed
/// with the current key are left alone; everything runs in one transaction.
package struct StoreResealer: Sendable {
    let database: StoreDatabase
    let sealer: SecretSealer

    package init(database: StoreDatabase, sealer: SecretSealer) {
        self.database = database
        self.sealer = sealer
    }

    /// Returns how many values were re-sealed.
    package func reseal() async throws -> Int {
        let schema = database.schema
        let sealer = self.sealer
        let url = database.settings.displayURL
        let current = sealer.current.id
        return try await database.transaction("re-seal the stored keys") { connection in
            var count = 0
            func needs(_ sealed: String?) -> Bool { sealed.map { SecretSealer.keyID(of: $0) != current } ?? false }
            func resealed(_ sealed: String, _ context: String) throws -> String {
                try sealer.seal(try sealer.open(sealed, context: context), context: context)
            }
            // Accounts: the key and a staged rollover key, bound to the account's CA and name.
            var accounts: [(String, String, String, String?)] = []
            for try await row in try await connection.query(
                "SELECT id, record, key_sealed, staged_key_sealed FROM \(unescaped: schema).accounts FOR UPDATE",
                logger: .quiet
            ).decode((String, String, String, String?).self) {
                accounts.append(row)
            }
            for (id, json, key, staged) in accounts where needs(key) || needs(staged) {
                let record = try StateJSON.decode(
                    AccountRecord.self, from: Array(json.utf8), path: url + "#accounts/" + id)
                let newKey = try resealed(key, PostgresAccountStore.keyContext(record, "key"))
                let newStaged = try staged.map {
                    try resealed($0, PostgresAccountStore.keyContext(record, "staged key"))
                }
                try await connection.query(
                    """
                    UPDATE \(unescaped: schema).accounts SET key_sealed = \(newKey), staged_key_sealed = \(newStaged)
                    WHERE id = \(id)
                    """, logger: .quiet)
                count += 1 + (staged == nil ? 0 : 1)
            }
            // Keys replaced by rollover.
            var oldKeys: [(String, String, String)] = []
            for try await row in try await connection.query(
                """
                SELECT o.ctid::text, a.record, o.key_sealed FROM \(unescaped: schema).account_old_keys o
                JOIN \(unescaped: schema).accounts a ON a.id = o.account_id
                """, logger: .quiet
            ).decode((String, String, String).self) {
                oldKeys.append(row)
            }
            for (ctid, json, key) in oldKeys where needs(key) {
                let record = try StateJSON.decode(AccountRecord.self, from: Array(json.utf8), path: url + "#accounts")
                let newKey = try resealed(key, PostgresAccountStore.keyContext(record, "old key"))
                try await connection.query(
                    """
                    UPDATE \(unescaped: schema).account_old_keys SET key_sealed = \(newKey)
                    WHERE ctid = \(ctid)::tid
                    """, logger: .quiet)
                count += 1
            }
            // Pending order keys.
            var pending: [(String, String)] = []
            for try await row in try await connection.query(
                """
                SELECT name, pending_key_sealed FROM \(unescaped: schema).certificate_state
                WHERE pending_key_sealed IS NOT NULL FOR UPDATE
                """, logger: .quiet
            ).decode((String, String).self) {
                pending.append(row)
            }
            for (name, key) in pending where needs(key) {
                let newKey = try resealed(key, PostgresCertificateStateStore.pendingKeyContext(name))
                try await connection.query(
                    """
                    UPDATE \(unescaped: schema).certificate_state SET pending_key_sealed = \(newKey)
                    WHERE name = \(name)
                    """, logger: .quiet)
                count += 1
            }
            // The fleet's certificates.
            var certificates: [(String, String, String)] = []
            for try await row in try await connection.query(
                "SELECT name, serial, key_sealed FROM \(unescaped: schema).certificates FOR UPDATE", logger: .quiet
            ).decode((String, String, String).self) {
                certificates.append(row)
            }
            for (name, serial, key) in certificates where needs(key) {
                let newKey = try resealed(key, PostgresSharedCertificateStore.keyContext(name, serial: serial))
                try await connection.query(
                    "UPDATE \(unescaped: schema).certificates SET key_sealed = \(newKey) WHERE name = \(name)",
                    logger: .quiet)
                count += 1
            }
            return count
        }
    }
}
