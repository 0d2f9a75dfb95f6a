import ACMECrypto
import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``AccountStore`` in the state directory.
///
/// Layout (also in docs/state-layout.md); directories 0700, files 0600:
/// ```
/// STATE_DIR/accounts/<id>/account.json                 the AccountRecord
/// STATE_DIR/accounts/<id>/key.pem                      the account private key (PEM)
/// STATE_DIR/accounts/<id>/key.pem.old-<UTC timestamp>  keys replaced by rollover
/// STATE_DIR/accounts/<id>/key.pem.next                 a rollover key staged before keyChange was sent
/// STATE_DIR/accounts/archive/<id>-<UTC timestamp>/     archived accounts (same files, status archived)
/// ```
/// `<id>` is `<ca-slug>--<name>`, e.g. `acme-v02.api.letsencrypt.org_directory--default`. A new account is
/// written into a hidden temp directory and renamed into place, so `accounts/<id>` never exists half-written.
/// Inside `archive/` the location is authoritative: records read from there always report status archived.
///
/// Its methods run on a thread of their own (``FileIOExecutor``), never on the event loops that run Swift concurrency.
package actor FileAccountStore: AccountStore {
    /// The state directory (`$STATE_DIRECTORY`, usually /var/lib/certkeeper).
    package let stateDirectory: String
    /// Who new files belong to: the state directory's owner when we run as root and it is another user's (so
    /// `certkeeper account ...` run as root leaves files the service user can read), nil for the process's own.
    package let fileOwner: FileOwner?
    private let now: @Sendable () -> Date
    private let executor = FileIOExecutor(label: "certkeeper.account-store")

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private var accountsDirectory: String { stateDirectory + "/accounts" }
    private var archiveDirectory: String { accountsDirectory + "/archive" }

    /// - Parameters:
    ///   - stateDirectory: the root of certkeeper's state; `accounts/` is created inside it on first write.
    ///   - now: the wall clock, for archive and old-key timestamps.
    package init(stateDirectory: String, now: @escaping @Sendable () -> Date = { Date() }) {
        self.stateDirectory = stateDirectory
        self.fileOwner = FileOwner.forFiles(in: stateDirectory)
        self.now = now
    }

    package func activeRecord(caDirectoryURL: String, name: String) throws -> AccountRecord? {
        let id = try StateName.accountID(caDirectoryURL: caDirectoryURL, name: name)
        guard let record = try loadRecord(in: accountsDirectory + "/" + id, archived: false) else { return nil }
        guard record.caDirectoryURL == caDirectoryURL else {
            throw CertStoreError.idCollision(id: id, storedCA: record.caDirectoryURL, requestedCA: caDirectoryURL)
        }
        return record
    }

    package func allRecords(includeArchived: Bool) throws -> [AccountRecord] {
        var records: [AccountRecord] = []
        for entry in try listDirectory(accountsDirectory) where entry != "archive" && StateName.isValid(entry) {
            if let record = try loadRecord(in: accountsDirectory + "/" + entry, archived: false) {
                records.append(record)
            }
        }
        if includeArchived {
            for entry in try listDirectory(archiveDirectory) where StateName.isValid(entry) {
                if let record = try loadRecord(in: archiveDirectory + "/" + entry, archived: true) {
                    records.append(record)
                }
            }
        }
        return records.sorted { $0.id < $1.id }
    }

    package func record(id: String) throws -> AccountRecord? {
        guard let (directory, archived) = try locate(id: id) else { return nil }
        return try loadRecord(in: directory, archived: archived)
    }

    package func recordBound(toEABKeyID keyID: String, caDirectoryURL: String) throws -> AccountRecord? {
        let candidates = try allRecords(includeArchived: true).filter {
            $0.eabKeyID == keyID && $0.caDirectoryURL == caDirectoryURL
        }
        return AccountRecord.preferredBound(candidates)
    }

    package func createPending(_ record: AccountRecord, keyPEM: String) throws {
        let id = try StateName.accountID(caDirectoryURL: record.caDirectoryURL, name: record.name)
        guard record.id == id else {
            throw CertStoreError.invalidUpdate(id: record.id, reason: "a new account's id must be \(id)")
        }
        if let existing = try activeRecord(caDirectoryURL: record.caDirectoryURL, name: record.name) {
            throw CertStoreError.alreadyExists(id: existing.id, path: accountsDirectory + "/" + id)
        }
        try createDirectory(record: record, keyPEM: keyPEM, at: accountsDirectory + "/" + id)
    }

    package func update(_ record: AccountRecord) throws {
        guard let (directory, archived) = try locate(id: record.id),
            let stored = try loadRecord(in: directory, archived: archived)
        else { throw CertStoreError.notFound(id: record.id, stateDirectory: stateDirectory) }
        try AccountRecord.checkUpdate(from: stored, to: record, archived: archived)
        try AtomicFile.write(
            StateJSON.encode(record), to: directory + "/account.json", mode: 0o600, fileOwner: fileOwner)
    }

    package func keyPEM(id: String) throws -> String {
        guard let (directory, _) = try locate(id: id), let bytes = try AtomicFile.read(directory + "/key.pem") else {
            throw CertStoreError.notFound(id: id, stateDirectory: stateDirectory)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    package func replaceKey(id: String, newKeyPEM: String, newKeyType: KeyType) throws {
        let directory = accountsDirectory + "/" + id
        guard StateName.isValid(id), var record = try loadRecord(in: directory, archived: false) else {
            throw CertStoreError.notFound(id: id, stateDirectory: stateDirectory)
        }
        let keyPath = directory + "/key.pem"
        let backup = uniquePath(keyPath + ".old-" + StateJSON.fileTimestamp(now()))
        // A hard link keeps the old key under its backup name without a moment where key.pem is missing.
        guard link(keyPath, backup) == 0 else {
            throw CertStoreError.io(operation: "link \(keyPath) to", path: backup, errno: errno)
        }
        try AtomicFile.syncDirectory(directory)
        try AtomicFile.write(Array(newKeyPEM.utf8), to: keyPath, mode: 0o600, fileOwner: fileOwner)
        record.keyType = newKeyType
        record.updated = now()
        try AtomicFile.write(
            StateJSON.encode(record), to: directory + "/account.json", mode: 0o600, fileOwner: fileOwner)
        if exists(directory + "/key.pem.next") {
            unlink(directory + "/key.pem.next")
            try AtomicFile.syncDirectory(directory)
        }
    }

    package func stageRolloverKey(id: String, pem: String) throws {
        let directory = accountsDirectory + "/" + id
        guard StateName.isValid(id), try loadRecord(in: directory, archived: false) != nil else {
            throw CertStoreError.notFound(id: id, stateDirectory: stateDirectory)
        }
        try AtomicFile.write(Array(pem.utf8), to: directory + "/key.pem.next", mode: 0o600, fileOwner: fileOwner)
    }

    /// The keys rollover replaced for `id` (active or archived), oldest first, with the time in their file names
    /// (nil when a name was changed by hand): what `store migrate` copies beside the current key.
    package func oldKeys(id: String) throws -> [(replacedAt: Date?, pem: String)] {
        guard let (directory, _) = try locate(id: id) else { return [] }
        let prefix = "key.pem.old-"
        return try listDirectory(directory).filter { $0.hasPrefix(prefix) }.sorted().compactMap { name in
            try AtomicFile.read(directory + "/" + name).map {
                (
                    StateJSON.parseFileTimestamp(String(name.dropFirst(prefix.count).prefix(16))),
                    String(decoding: $0, as: UTF8.self)
                )
            }
        }
    }

    package func stagedRolloverKey(id: String) throws -> String? {
        try StateName.validate(id, kind: "account id")
        return try AtomicFile.read(accountsDirectory + "/" + id + "/key.pem.next").map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    package func discardStagedRolloverKey(id: String) throws {
        try StateName.validate(id, kind: "account id")
        let path = accountsDirectory + "/" + id + "/key.pem.next"
        guard exists(path) else { return }
        guard unlink(path) == 0 else { throw CertStoreError.io(operation: "unlink", path: path, errno: errno) }
        try AtomicFile.syncDirectory(accountsDirectory + "/" + id)
    }

    package func archive(id: String) throws {
        try StateName.validate(id, kind: "account id")
        let source = accountsDirectory + "/" + id
        guard var record = try loadRecord(in: source, archived: false) else {
            throw CertStoreError.notFound(id: id, stateDirectory: stateDirectory)
        }
        try AtomicFile.ensureDirectory(archiveDirectory, mode: 0o700, owner: fileOwner)
        let archivedID = uniqueArchiveID(id + "-" + StateJSON.fileTimestamp(now()))
        let destination = archiveDirectory + "/" + archivedID
        guard rename(source, destination) == 0 else {
            throw CertStoreError.io(operation: "rename \(source) to", path: destination, errno: errno)
        }
        try AtomicFile.syncDirectory(accountsDirectory)
        try AtomicFile.syncDirectory(archiveDirectory)
        record.id = archivedID
        record.status = .archived
        record.updated = now()
        try AtomicFile.write(
            StateJSON.encode(record), to: destination + "/account.json", mode: 0o600, fileOwner: fileOwner)
    }

    package func importRecord(_ record: AccountRecord, keyPEM: String) throws {
        if record.status == .archived {
            try StateName.validate(record.id, kind: "account id")
            try AtomicFile.ensureDirectory(archiveDirectory, mode: 0o700, owner: fileOwner)
            let destination = archiveDirectory + "/" + record.id
            guard !exists(destination) else { throw CertStoreError.alreadyExists(id: record.id, path: destination) }
            try createDirectory(record: record, keyPEM: keyPEM, at: destination)
        } else {
            try createPending(record, keyPEM: keyPEM)
        }
    }

    // MARK: - Files

    private func locate(id: String) throws -> (String, Bool)? {
        try StateName.validate(id, kind: "account id")
        let active = accountsDirectory + "/" + id
        if exists(active + "/account.json") { return (active, false) }
        let archived = archiveDirectory + "/" + id
        if exists(archived + "/account.json") { return (archived, true) }
        return nil
    }

    private func loadRecord(in directory: String, archived: Bool) throws -> AccountRecord? {
        guard var record = try StateJSON.load(AccountRecord.self, at: directory + "/account.json") else { return nil }
        if archived {
            // The location is authoritative: a crash between rename and rewrite must not resurrect an account.
            record.status = .archived
            record.id = (directory as NSString).lastPathComponent
        }
        return record
    }

    /// Writes key and record into a hidden temp directory, then renames it to `destination` in one step.
    private func createDirectory(record: AccountRecord, keyPEM: String, at destination: String) throws {
        let parent = (destination as NSString).deletingLastPathComponent
        try AtomicFile.ensureDirectory(parent, mode: 0o700, owner: fileOwner)
        guard !exists(destination) else {
            throw CertStoreError.alreadyExists(id: record.id, path: destination)
        }
        let temp = parent + "/.new-" + record.id + "-" + String(UInt64.random(in: 0...UInt64.max), radix: 36)
        guard mkdir(temp, 0o700) == 0 else { throw CertStoreError.io(operation: "mkdir", path: temp, errno: errno) }
        do {
            guard chmod(temp, 0o700) == 0 else { throw CertStoreError.io(operation: "chmod", path: temp, errno: errno) }
            if let fileOwner, chown(temp, fileOwner.uid, fileOwner.gid) != 0 {
                throw CertStoreError.io(operation: "chown", path: temp, errno: errno)
            }
            try AtomicFile.write(Array(keyPEM.utf8), to: temp + "/key.pem", mode: 0o600, fileOwner: fileOwner)
            try AtomicFile.write(
                StateJSON.encode(record), to: temp + "/account.json", mode: 0o600, fileOwner: fileOwner)
            guard rename(temp, destination) == 0 else {
                throw CertStoreError.io(operation: "rename \(temp) to", path: destination, errno: errno)
            }
        } catch {
            unlink(temp + "/key.pem")
            unlink(temp + "/account.json")
            rmdir(temp)
            throw error
        }
        try AtomicFile.syncDirectory(parent)
    }

    private func listDirectory(_ path: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: path)
        } catch CocoaError.fileReadNoSuchFile {
            return []
        } catch {
            if !exists(path) { return [] }
            throw CertStoreError.io(operation: "list", path: path, errno: EIO)
        }
    }

    private func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    private func uniquePath(_ path: String) -> String {
        var candidate = path
        var counter = 2
        while exists(candidate) {
            candidate = path + "-\(counter)"
            counter += 1
        }
        return candidate
    }

    private func uniqueArchiveID(_ id: String) -> String {
        (uniquePath(archiveDirectory + "/" + id) as NSString).lastPathComponent
    }
}
