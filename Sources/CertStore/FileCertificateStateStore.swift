import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``CertificateStateStore`` in the state directory:
/// `STATE_DIR/certs/<name>/state.json` and `STATE_DIR/certs/<name>/pending-key.pem`; directories 0700, files 0600.
///
/// Its methods run on a Dispatch thread of their own (``FileIOExecutor``), never on the cooperative pool.
///
/// ``saveRecomputable(_:)`` writes behind: the new `state.json` is written next to the old one as a temp file
/// without fsync and kept here; ``flushRecomputable()`` (at the end of each batch of work, or every
/// ``writeBehindLimit`` states) makes them all durable with one `syncfs` and only then renames them into place. A crash
/// before that leaves the old file (or none) and a temp file, never a torn `state.json`; adopting 10,000 installed
/// certificates costs a few `syncfs` instead of 30,000 fsyncs.
package actor FileCertificateStateStore: CertificateStateStore {
    /// The state directory (`$STATE_DIRECTORY`).
    package nonisolated let stateDirectory: String
    private var certsDirectory: String { stateDirectory + "/certs" }
    private let executor = FileIOExecutor(label: "certkeeper.state-store")
    /// `certs/` held open: for reading (never created by a read) and for writing (created 0700 with its parents).
    private let certsForReading: CachedDirectory
    private let certsForWriting: CachedDirectory
    /// Who new files and directories belong to: the state directory's owner when we run as root and it is another
    /// user's (`certkeeper revoke` or `run --once` run as root beside a daemon running as `certkeeper`), so the
    /// daemon can still read and replace them.
    private let fileOwner: FileOwner?

    package nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Recomputable states written but not yet durable, by name: the temp file and what it holds.
    private var writeBehind: [String: (staged: StagedFile, state: CertificateState)] = [:]
    /// How many states may wait for ``flushRecomputable()`` before a save flushes them itself.
    package static let writeBehindLimit = 256

    package init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        let certs = stateDirectory + "/certs"
        let owner = FileOwner.forFiles(in: stateDirectory)
        fileOwner = owner
        certsForReading = CachedDirectory(certs)
        certsForWriting = CachedDirectory(certs, create: DirectoryCreation(mode: 0o700, owner: owner))
    }

    package func load(name: String) throws -> CertificateState? {
        if let pending = writeBehind[name] { return pending.state }
        guard let directory = try existingDirectory(for: name) else { return nil }
        return try StateJSON.load(CertificateState.self, in: directory, name: "state.json")
    }

    package func save(_ state: CertificateState) throws {
        discardWriteBehind(state.name)
        try writableDirectory(for: state.name).write(
            StateJSON.encode(state), as: "state.json", mode: 0o600, owner: fileOwner?.uid, group: fileOwner?.gid)
    }

    package func saveRecomputable(_ state: CertificateState) throws {
        guard state.isRecomputable else { return try save(state) }
        discardWriteBehind(state.name)
        // Neither the directory nor the file waits for the disk here: flushRecomputable does, for all at once.
        var create = DirectoryCreation(mode: 0o700, owner: fileOwner)
        create.durable = false
        try StateName.validate(state.name, kind: "certificate name")
        guard let directory = try certsForWriting.subdirectory(state.name, create: create) else {
            throw CertStoreError.io(
                operation: "create directory", path: certsDirectory + "/" + state.name, errno: ENOENT)
        }
        let staged = try directory.stage(
            StateJSON.encode(state), as: "state.json", mode: 0o600, owner: fileOwner?.uid, group: fileOwner?.gid,
            durable: false)
        writeBehind[state.name] = (staged, state)
        if writeBehind.count >= Self.writeBehindLimit { try flushRecomputable() }
    }

    package func flushRecomputable() throws {
        guard let any = writeBehind.values.first else { return }
        // One syncfs for every temp file's data; renamed only once it is on disk.
        try any.staged.directory.syncFileSystem()
        let pending = writeBehind
        writeBehind = [:]
        var firstError: (any Error)?
        for (_, entry) in pending.sorted(by: { $0.key < $1.key }) {
            do {
                try entry.staged.commit(durable: false)
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Drops a write-behind state of `name` (a newer save or a removal supersedes it).
    private func discardWriteBehind(_ name: String) {
        writeBehind.removeValue(forKey: name)?.staged.discard()
    }

    package func savePendingKey(name: String, pem: String) throws {
        try writableDirectory(for: name).write(
            Array(pem.utf8), as: "pending-key.pem", mode: 0o600, owner: fileOwner?.uid, group: fileOwner?.gid)
    }

    package func pendingKey(name: String) throws -> String? {
        try existingDirectory(for: name)?.readFile("pending-key.pem", maxSize: AtomicFile.maxReadSize).map {
            String(decoding: $0, as: UTF8.self)
        }
    }

    package func clearPendingKey(name: String) throws {
        let dir = try directory(for: name)
        if unlink(dir + "/pending-key.pem") != 0 {
            guard errno == ENOENT else {
                throw CertStoreError.io(operation: "remove", path: dir + "/pending-key.pem", errno: errno)
            }
            return
        }
        try AtomicFile.syncDirectory(dir)
    }

    package func allNames() throws -> [String] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: certsDirectory) else {
            return writeBehind.keys.sorted()
        }
        let stored = entries.filter { name in
            guard StateName.isValid(name) else { return false }
            let dir = certsDirectory + "/" + name
            return access(dir + "/state.json", F_OK) == 0 || access(dir + "/pending-key.pem", F_OK) == 0
        }
        return Set(stored).union(writeBehind.keys).sorted()
    }

    package func remove(name: String) throws {
        try StateName.validate(name, kind: "certificate name")
        discardWriteBehind(name)
        guard let directory = try certsForReading.subdirectory(name) else { return }
        for file in ["state.json", "pending-key.pem"] { try directory.remove(file) }
        let certs = try certsForReading.open()
        guard unlinkat(certs.descriptor, name, AT_REMOVEDIR) == 0 || errno == ENOENT else {
            throw CertStoreError.io(operation: "remove", path: certsDirectory + "/" + name, errno: errno)
        }
        try certs.sync()
    }

    private func directory(for name: String) throws -> String {
        try StateName.validate(name, kind: "certificate name")
        return certsDirectory + "/" + name
    }

    /// `certs/NAME` opened relative to the held `certs/`, or nil when it does not exist.
    private func existingDirectory(for name: String) throws -> DirectoryHandle? {
        try StateName.validate(name, kind: "certificate name")
        return try certsForReading.subdirectory(name)
    }

    /// `certs/NAME`, created 0700 (with `certs/` and the state directory) when missing.
    private func writableDirectory(for name: String) throws -> DirectoryHandle {
        try StateName.validate(name, kind: "certificate name")
        let create = DirectoryCreation(mode: 0o700, owner: fileOwner)
        guard let directory = try certsForWriting.subdirectory(name, create: create) else {
            throw CertStoreError.io(operation: "create directory", path: certsDirectory + "/" + name, errno: ENOENT)
        }
        return directory
    }
}
