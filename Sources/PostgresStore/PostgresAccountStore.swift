import ACMECrypto
import CertStore
import Foundation
import PostgresNIO
import SafeFiles

/// ``AccountStore`` on PostgreSQL (table `accounts`, old rollover keys in `account_old_keys`), shared by every node of
/// a fleet. Same ids and rules as ``FileAccountStore``; keys are sealed at rest by ``SecretSealer``.
///
/// Multi-step writes run in one transaction with the row locked (`SELECT ... FOR UPDATE`); a new account is one
/// `INSERT ... ON CONFLICT DO NOTHING`, so two nodes can never both create the same active account: the second one
/// gets ``CertStoreError/alreadyExists(id:path:)`` and reads the first one's record.
package struct PostgresAccountStore: AccountStore {
    let database: StoreDatabase
    let sealer: SecretSealer
    private let now: @Sendable () -> Date

    package init(database: StoreDatabase, sealer: SecretSealer, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.sealer = sealer
        self.now = now
    }

    /// Where a record is, for messages: `postgresql://...#accounts/ID`.
    private func location(_ id: String) -> String { database.settings.displayURL + "#accounts/" + id }

    /// The context a record's keys are sealed for (stable across archiving, which renames the id).
    static func keyContext(_ record: AccountRecord, _ purpose: String) -> String {
        "account \(purpose) of \(record.name) at \(record.caDirectoryURL)"
    }

    private func decodeRecord(_ text: String, id: String) throws -> AccountRecord {
        do {
            return try StateJSON.decode(AccountRecord.self, from: Array(text.utf8), path: location(id))
        } catch {
            throw database.corrupt("account \(id)", error)
        }
    }

    private func encode(_ record: AccountRecord) throws -> String {
        String(decoding: try StateJSON.encode(record), as: UTF8.self)
    }

    private func records(where clause: PostgresQuery, operation: String) async throws -> [AccountRecord] {
        let rows = try await database.withClient(operation) { client in
            var rows: [(String, String)] = []
            for try await row in try await client.query(clause).decode((String, String).self) { rows.append(row) }
            return rows
        }
        return try rows.map { try decodeRecord($0.1, id: $0.0) }
    }

    package func activeRecord(caDirectoryURL: String, name: String) async throws -> AccountRecord? {
        let id = try StateName.accountID(caDirectoryURL: caDirectoryURL, name: name)
        let schema = database.schema
        guard
            let record = try await records(
                where: "SELECT id, record FROM \(unescaped: schema).accounts WHERE id = \(id) AND status <> 'archived'",
                operation: "read account \(id)"
            ).first
        else { return nil }
        guard record.caDirectoryURL == caDirectoryURL else {
            throw CertStoreError.idCollision(id: id, storedCA: record.caDirectoryURL, requestedCA: caDirectoryURL)
        }
        return record
    }

    package func allRecords(includeArchived: Bool) async throws -> [AccountRecord] {
        let schema = database.schema
        return try await records(
            where:
                "SELECT id, record FROM \(unescaped: schema).accounts WHERE \(includeArchived) OR status <> 'archived' ORDER BY id",
            operation: "list accounts")
    }

    package func record(id: String) async throws -> AccountRecord? {
        try StateName.validate(id, kind: "account id")
        let schema = database.schema
        return try await records(
            where: "SELECT id, record FROM \(unescaped: schema).accounts WHERE id = \(id)",
            operation: "read account \(id)"
        ).first
    }

    package func recordBound(toEABKeyID keyID: String, caDirectoryURL: String) async throws -> AccountRecord? {
        let schema = database.schema
        return AccountRecord.preferredBound(
            try await records(
                where: """
                    SELECT id, record FROM \(unescaped: schema).accounts
                    WHERE ca_directory_url = \(caDirectoryURL) AND eab_key_id = \(keyID)
                    """, operation: "find the account bound to an EAB key id"))
    }

    package func createPending(_ record: AccountRecord, keyPEM: String) async throws {
        let id = try StateName.accountID(caDirectoryURL: record.caDirectoryURL, name: record.name)
        guard record.id == id else {
            throw CertStoreError.invalidUpdate(id: record.id, reason: "a new account's id must be \(id)")
        }
        try await insert(record, keyPEM: keyPEM)
    }

    /// One INSERT: the id is the primary key, so of two nodes creating the same account exactly one succeeds.
    private func insert(_ record: AccountRecord, keyPEM: String) async throws {
        let id = record.id
        let schema = database.schema
        let json = try encode(record)
        let sealed = try sealer.seal(keyPEM, context: Self.keyContext(record, "key"))
        let inserted = try await database.withClient("store account \(id)") { client in
            var inserted = false
            for try await _ in try await client.query(
                """
                INSERT INTO \(unescaped: schema).accounts
                    (id, ca_directory_url, name, status, eab_key_id, record, key_sealed)
                VALUES (\(id), \(record.caDirectoryURL), \(record.name), \(record.status.rawValue), \(record.eabKeyID),
                        \(json), \(sealed))
                ON CONFLICT (id) DO NOTHING RETURNING 1
                """
            ).decode(Int.self) {
                inserted = true
            }
            return inserted
        }
        guard inserted else {
            if record.status != .archived, let stored = try await self.record(id: id),
                stored.caDirectoryURL != record.caDirectoryURL
            {
                throw CertStoreError.idCollision(
                    id: id, storedCA: stored.caDirectoryURL, requestedCA: record.caDirectoryURL)
            }
            throw CertStoreError.alreadyExists(id: id, path: location(id))
        }
    }

    package func update(_ record: AccountRecord) async throws {
        let schema = database.schema
        let json = try encode(record)
        let id = record.id
        let url = database.settings.displayURL
        let stored = try await database.transaction("update account \(id)") { connection in
            var stored: String?
            for try await text in try await connection.query(
                "SELECT record FROM \(unescaped: schema).accounts WHERE id = \(id) FOR UPDATE", logger: .quiet
            ).decode(String.self) {
                stored = text
            }
            guard let stored else { return String?.none }
            let old = try StateJSON.decode(AccountRecord.self, from: Array(stored.utf8), path: url + "#accounts/" + id)
            try AccountRecord.checkUpdate(from: old, to: record, archived: old.status == .archived)
            try await connection.query(
                """
                UPDATE \(unescaped: schema).accounts
                SET record = \(json), status = \(record.status.rawValue), eab_key_id = \(record.eabKeyID), updated = now()
                WHERE id = \(id)
                """, logger: .quiet)
            return stored
        }
        guard stored != nil else { throw CertStoreError.notFound(id: id, stateDirectory: database.settings.displayURL) }
    }

    package func keyPEM(id: String) async throws -> String {
        try StateName.validate(id, kind: "account id")
        let schema = database.schema
        let rows = try await database.withClient("read the key of account \(id)") { client in
            var rows: [(String, String)] = []
            for try await row in try await client.query(
                "SELECT record, key_sealed FROM \(unescaped: schema).accounts WHERE id = \(id)"
            ).decode((String, String).self) {
                rows.append(row)
            }
            return rows
        }
        guard let (json, sealed) = rows.first else {
            throw CertStoreError.notFound(id: id, stateDirectory: database.settings.displayURL)
        }
        let record = try decodeRecord(json, id: id)
        return try sealer.open(sealed, context: Self.keyContext(record, "key"))
    }

    package func replaceKey(id: String, newKeyPEM: String, newKeyType: KeyType) async throws {
        let schema = database.schema
        let sealer = self.sealer
        let url = database.settings.displayURL
        let updated = now()
        let found = try await database.transaction("replace the key of account \(id)") { connection in
            var row: (String, String)?
            for try await found in try await connection.query(
                """
                SELECT record, key_sealed FROM \(unescaped: schema).accounts
                WHERE id = \(id) AND status <> 'archived' FOR UPDATE
                """, logger: .quiet
            ).decode((String, String).self) {
                row = found
            }
            guard let (json, oldSealed) = row else { return false }
            var record = try StateJSON.decode(AccountRecord.self, from: Array(json.utf8), path: url + "#accounts/" + id)
            record.keyType = newKeyType
            record.updated = updated
            let newJSON = String(decoding: try StateJSON.encode(record), as: UTF8.self)
            let newSealed = try sealer.seal(newKeyPEM, context: Self.keyContext(record, "key"))
            // The old key is kept (as the file store keeps key.pem.old-*), re-sealed as an old key.
            let oldPEM = try sealer.open(oldSealed, context: Self.keyContext(record, "key"))
            let oldResealed = try sealer.seal(oldPEM, context: Self.keyContext(record, "old key"))
            try await connection.query(
                "INSERT INTO \(unescaped: schema).account_old_keys (account_id, key_sealed) VALUES (\(id), \(oldResealed))",
                logger: .quiet)
            try await connection.query(
                """
                UPDATE \(unescaped: schema).accounts
                SET record = \(newJSON), key_sealed = \(newSealed), staged_key_sealed = NULL, updated = now()
                WHERE id = \(id)
                """, logger: .quiet)
            return true
        }
        guard found else { throw CertStoreError.notFound(id: id, stateDirectory: url) }
    }

    /// Keys replaced by rollover for this id, oldest first.
    package func oldKeys(id: String) async throws -> [String] {
        guard let record = try await record(id: id) else { return [] }
        let schema = database.schema
        let sealed = try await database.withClient("read the old keys of account \(id)") { client in
            var keys: [String] = []
            for try await key in try await client.query(
                "SELECT key_sealed FROM \(unescaped: schema).account_old_keys WHERE account_id = \(id) ORDER BY replaced_at"
            ).decode(String.self) {
                keys.append(key)
            }
            return keys
        }
        return try sealed.map { try sealer.open($0, context: Self.keyContext(record, "old key")) }
    }

    /// Adds keys rollover replaced elsewhere (`store migrate` from a file store), sealed as this account's old keys;
    /// a key without a time counts as replaced now.
    package func importOldKeys(id: String, _ keys: [(replacedAt: Date?, pem: String)]) async throws {
        guard !keys.isEmpty else { return }
        guard let record = try await record(id: id) else {
            throw CertStoreError.notFound(id: id, stateDirectory: database.settings.displayURL)
        }
        let sealed = try keys.map {
            ($0.replacedAt ?? now(), try sealer.seal($0.pem, context: Self.keyContext(record, "old key")))
        }
        let schema = database.schema
        try await database.transaction("copy the old keys of account \(id)") { connection in
            for (replacedAt, key) in sealed {
                try await connection.query(
                    """
                    INSERT INTO \(unescaped: schema).account_old_keys (account_id, replaced_at, key_sealed)
                    VALUES (\(id), \(replacedAt), \(key))
                    """, logger: .quiet)
            }
        }
    }

    package func stageRolloverKey(id: String, pem: String) async throws {
        guard let record = try await record(id: id), record.status != .archived else {
            throw CertStoreError.notFound(id: id, stateDirectory: database.settings.displayURL)
        }
        let sealed = try sealer.seal(pem, context: Self.keyContext(record, "staged key"))
        let schema = database.schema
        try await database.withClient("stage a rollover key for account \(id)") { client in
            try await client.query(
                "UPDATE \(unescaped: schema).accounts SET staged_key_sealed = \(sealed), updated = now() WHERE id = \(id)"
            )
        }
    }

    package func stagedRolloverKey(id: String) async throws -> String? {
        try StateName.validate(id, kind: "account id")
        let schema = database.schema
        let rows = try await database.withClient("read the staged key of account \(id)") { client in
            var rows: [(String, String?)] = []
            for try await row in try await client.query(
                """
                SELECT record, staged_key_sealed FROM \(unescaped: schema).accounts
                WHERE id = \(id) AND status <> 'archived'
                """
            ).decode((String, String?).self) {
                rows.append(row)
            }
            return rows
        }
        guard let (json, sealed) = rows.first, let sealed else { return nil }
        return try sealer.open(sealed, context: Self.keyContext(try decodeRecord(json, id: id), "staged key"))
    }

    package func discardStagedRolloverKey(id: String) async throws {
        try StateName.validate(id, kind: "account id")
        let schema = database.schema
        try await database.withClient("discard the staged key of account \(id)") { client in
            try await client.query(
                "UPDATE \(unescaped: schema).accounts SET staged_key_sealed = NULL WHERE id = \(id) AND status <> 'archived'"
            )
        }
    }

    package func archive(id: String) async throws {
        try StateName.validate(id, kind: "account id")
        let schema = database.schema
        let url = database.settings.displayURL
        let stamp = now()
        let base = id + "-" + StateJSON.fileTimestamp(stamp)
        let found = try await database.transaction("archive account \(id)") { connection in
            var json: String?
            for try await text in try await connection.query(
                "SELECT record FROM \(unescaped: schema).accounts WHERE id = \(id) AND status <> 'archived' FOR UPDATE",
                logger: .quiet
            ).decode(String.self) {
                json = text
            }
            guard let json else { return false }
            var taken: Set<String> = []
            let pattern = base + "%"
            for try await other in try await connection.query(
                "SELECT id FROM \(unescaped: schema).accounts WHERE id LIKE \(pattern)", logger: .quiet
            ).decode(String.self) {
                taken.insert(other)
            }
            var archivedID = base
            var counter = 2
            while taken.contains(archivedID) {
                archivedID = base + "-\(counter)"
                counter += 1
            }
            var record = try StateJSON.decode(AccountRecord.self, from: Array(json.utf8), path: url + "#accounts/" + id)
            record.id = archivedID
            record.status = .archived
            record.updated = stamp
            let newJSON = String(decoding: try StateJSON.encode(record), as: UTF8.self)
            try await connection.query(
                """
                UPDATE \(unescaped: schema).accounts
                SET id = \(archivedID), status = 'archived', record = \(newJSON), staged_key_sealed = NULL, updated = now()
                WHERE id = \(id)
                """, logger: .quiet)
            return true
        }
        guard found else { throw CertStoreError.notFound(id: id, stateDirectory: url) }
    }

    package func importRecord(_ record: AccountRecord, keyPEM: String) async throws {
        if record.status == .archived {
            try StateName.validate(record.id, kind: "account id")
            try await insert(record, keyPEM: keyPEM)
        } else {
            try await createPending(record, keyPEM: keyPEM)
        }
    }
}
