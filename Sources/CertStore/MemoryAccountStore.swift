import ACMECrypto
import Foundation
import SafeFiles

/// The in-memory twin of ``FileAccountStore`` for tests: same ids, same rules, nothing on disk.
package actor MemoryAccountStore: AccountStore {
    private struct Entry {
        var record: AccountRecord
        var keyPEM: String
        var oldKeys: [String] = []
        var stagedKey: String?
    }

    private var active: [String: Entry] = [:]
    private var archived: [String: Entry] = [:]
    private let now: @Sendable () -> Date

    /// - Parameter now: the wall clock, for archive timestamps.
    package init(now: @escaping @Sendable () -> Date = { Date() }) {
        self.now = now
    }

    /// Keys replaced by rollover for this id, oldest first (the file store's `key.pem.old-*`).
    package func oldKeys(id: String) -> [String] {
        (active[id] ?? archived[id])?.oldKeys ?? []
    }

    package func activeRecord(caDirectoryURL: String, name: String) throws -> AccountRecord? {
        let id = try StateName.accountID(caDirectoryURL: caDirectoryURL, name: name)
        guard let record = active[id]?.record else { return nil }
        guard record.caDirectoryURL == caDirectoryURL else {
            throw CertStoreError.idCollision(id: id, storedCA: record.caDirectoryURL, requestedCA: caDirectoryURL)
        }
        return record
    }

    package func allRecords(includeArchived: Bool) -> [AccountRecord] {
        var records = active.values.map(\.record)
        if includeArchived { records += archived.values.map(\.record) }
        return records.sorted { $0.id < $1.id }
    }

    package func record(id: String) throws -> AccountRecord? {
        try StateName.validate(id, kind: "account id")
        return (active[id] ?? archived[id])?.record
    }

    package func recordBound(toEABKeyID keyID: String, caDirectoryURL: String) -> AccountRecord? {
        AccountRecord.preferredBound(
            allRecords(includeArchived: true).filter { $0.eabKeyID == keyID && $0.caDirectoryURL == caDirectoryURL })
    }

    package func createPending(_ record: AccountRecord, keyPEM: String) throws {
        let id = try StateName.accountID(caDirectoryURL: record.caDirectoryURL, name: record.name)
        guard record.id == id else {
            throw CertStoreError.invalidUpdate(id: record.id, reason: "a new account's id must be \(id)")
        }
        if try activeRecord(caDirectoryURL: record.caDirectoryURL, name: record.name) != nil {
            throw CertStoreError.alreadyExists(id: id, path: "memory:accounts/\(id)")
        }
        active[id] = Entry(record: record, keyPEM: keyPEM)
    }

    package func update(_ record: AccountRecord) throws {
        if let stored = active[record.id] {
            try AccountRecord.checkUpdate(from: stored.record, to: record, archived: false)
            active[record.id]?.record = record
        } else if let stored = archived[record.id] {
            try AccountRecord.checkUpdate(from: stored.record, to: record, archived: true)
            archived[record.id]?.record = record
        } else {
            throw CertStoreError.notFound(id: record.id, stateDirectory: "memory")
        }
    }

    package func keyPEM(id: String) throws -> String {
        guard let entry = active[id] ?? archived[id] else {
            throw CertStoreError.notFound(id: id, stateDirectory: "memory")
        }
        return entry.keyPEM
    }

    package func replaceKey(id: String, newKeyPEM: String, newKeyType: KeyType) throws {
        guard var entry = active[id] else { throw CertStoreError.notFound(id: id, stateDirectory: "memory") }
        entry.oldKeys.append(entry.keyPEM)
        entry.keyPEM = newKeyPEM
        entry.stagedKey = nil
        entry.record.keyType = newKeyType
        entry.record.updated = now()
        active[id] = entry
    }

    package func stageRolloverKey(id: String, pem: String) throws {
        guard active[id] != nil else { throw CertStoreError.notFound(id: id, stateDirectory: "memory") }
        active[id]?.stagedKey = pem
    }

    package func stagedRolloverKey(id: String) throws -> String? {
        try StateName.validate(id, kind: "account id")
        return active[id]?.stagedKey
    }

    package func discardStagedRolloverKey(id: String) throws {
        active[id]?.stagedKey = nil
    }

    package func archive(id: String) throws {
        try StateName.validate(id, kind: "account id")
        guard var entry = active.removeValue(forKey: id) else {
            throw CertStoreError.notFound(id: id, stateDirectory: "memory")
        }
        let base = id + "-" + StateJSON.fileTimestamp(now())
        var archivedID = base
        var counter = 2
        while archived[archivedID] != nil {
            archivedID = base + "-\(counter)"
            counter += 1
        }
        entry.record.id = archivedID
        entry.record.status = .archived
        entry.record.updated = now()
        archived[archivedID] = entry
    }

    package func importRecord(_ record: AccountRecord, keyPEM: String) throws {
        if record.status == .archived {
            try StateName.validate(record.id, kind: "account id")
            guard archived[record.id] == nil else {
                throw CertStoreError.alreadyExists(id: record.id, path: "memory:accounts/archive/\(record.id)")
            }
            archived[record.id] = Entry(record: record, keyPEM: keyPEM)
        } else {
            try createPending(record, keyPEM: keyPEM)
        }
    }
}
