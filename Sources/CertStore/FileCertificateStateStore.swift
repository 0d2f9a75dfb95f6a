import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``CertificateStateStore`` in the state directory:
/// `STATE_DIR/certs/<name>/state.json` and `STATE_DIR/certs/<name>/pending-key.pem`; directories 0700, files 0600.
///
/// Its methods run on a thread of their own (``FileIOExecutor``), never on the event loops that run Swift concurrency.
///
/// ``saveRecomputable(_:)`` writes behind, for a certificate that has no `state.json` yet (one adopted at a start or
/// a reload): the new state is written as a temp file next to where `state.json` will be, without fsync, and kept
/// here; ``flushRecomputable()`` (at the end of each batch of work, every ``writeBehindLimit`` states, every
/// ``writeBehindDelay``, and at shutdown) makes them all durable with one `syncfs` and only then links each into place,
/// never over a `state.json` another process (`revoke`, `run --once`) wrote meanwhile, which also wins in ``load(name:)``.
/// A crash before that leaves no `state.json` and a temp file, never a torn one; adopting 10,000 installed certificates
/// costs a few `syncfs` instead of 30,000 fsyncs.
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

    /// Recomputable states written but not yet durable, by name: the temp file in `certs/NAME/` and what it holds.
    private var writeBehind: [String: (tempName: String, state: CertificateState)] = [:]
    /// When the oldest of them was written.
    private var oldestWriteBehind: ContinuousClock.Instant?
    /// `certs/NAME` directories created without fsyncing `certs/` (a durable write into one fsyncs `certs/` first).
    private var nondurableDirectories: Set<String> = []
    /// How many states may wait for ``flushRecomputable()`` before a save flushes them itself.
    package static let writeBehindLimit = 256
    /// How long a state may wait before a save flushes them all.
    package static let writeBehindDelay: Duration = .seconds(5)

    package init(stateDirectory: String) {
        self.stateDirectory = stateDirectory
        let certs = stateDirectory + "/certs"
        let owner = FileOwner.forFiles(in: stateDirectory)
        fileOwner = owner
        certsForReading = CachedDirectory(certs)
        certsForWriting = CachedDirectory(certs, create: DirectoryCreation(mode: 0o700, owner: owner))
    }

    package func load(name: String) throws -> CertificateState? {
        let directory = try existingDirectory(for: name)
        if let pending = writeBehind[name] {
            // Another process wrote a state since (a revoke, run --once): it wins.
            guard let directory, try directory.kind(of: "state.json") != .missing else { return pending.state }
            discardWriteBehind(name)
        }
        guard let directory else { return nil }
        return try StateJSON.load(CertificateState.self, in: directory, name: "state.json")
    }

    /// One hop onto this store's thread for all of them.
    package func loadEach(names: [String]) -> [CertificateState?] {
        names.map { try? load(name: $0) }
    }

    package func save(_ state: CertificateState) throws {
        discardWriteBehind(state.name)
        try writableDirectory(for: state.name).write(
            StateJSON.encode(state), as: "state.json", mode: 0o600, owner: fileOwner?.uid, group: fileOwner?.gid)
    }

    package func saveRecomputable(_ state: CertificateState) throws {
        let name = state.name
        try StateName.validate(name, kind: "certificate name")
        // Only a first state is written behind: one on disk may be another process's, never hidden or replaced.
        // certs/ is ours (0700): NAME/state.json is looked at through it in one call, like the flush's links.
        let certs = try certsForWriting.open()
        guard state.isRecomputable, try certs.kind(of: name + "/state.json") == .missing else {
            return try save(state)
        }
        discardWriteBehind(name)
        // Not fsynced into certs/ when new: the flush's syncfs covers it (and a durable write before it fsyncs).
        var create = DirectoryCreation(mode: 0o700, owner: fileOwner)
        create.durable = false
        let existed = try certs.kind(of: name) != .missing
        let directory = try certs.openSubdirectory(name, create: create)
        if !existed { nondurableDirectories.insert(name) }
        let staged = try directory.stage(
            StateJSON.encode(state), as: "state.json", mode: 0o600, owner: fileOwner?.uid, group: fileOwner?.gid,
            durable: false)
        writeBehind[name] = (staged.tempName, state)
        let now = ContinuousClock.now
        let oldest = oldestWriteBehind ?? now
        oldestWriteBehind = oldest
        if writeBehind.count >= Self.writeBehindLimit || oldest.duration(to: now) >= Self.writeBehindDelay {
            // This state is staged whatever the flush does: its errors are the batch's (flushRecomputable) to report.
            try? flushRecomputable()
        }
    }

    package func flushRecomputable() throws {
        guard !writeBehind.isEmpty else { return }
        let pending = writeBehind
        writeBehind = [:]
        oldestWriteBehind = nil
        do {
            // One syncfs for every temp file's data (on certs/, held open since before any of them was written).
            try certsForWriting.open().syncFileSystem()
        } catch {
            // Not durable: dropped; each is found again at its certificate's next look.
            let certs = try? certsForWriting.open()
            for (name, entry) in pending { try? certs?.remove(name + "/" + entry.tempName) }
            throw error
        }
        nondurableDirectories = []
        let certs = try certsForWriting.open()
        var firstError: (any Error)?
        for (name, entry) in pending.sorted(by: { $0.key < $1.key }) {
            do {
                // Linked, not renamed: a state.json another process wrote meanwhile stays.
                _ = try certs.linkIfAbsent(name + "/" + entry.tempName, as: name + "/state.json")
                try certs.remove(name + "/" + entry.tempName)
            } catch let error as FileSystemError where error.errno == ENOENT {
                continue  // removed meanwhile (`certkeeper delete`): nothing to keep
            } catch {
                firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
    }

    /// Drops a write-behind state of `name` (a newer save, a removal or another process's state supersedes it).
    private func discardWriteBehind(_ name: String) {
        guard let entry = writeBehind.removeValue(forKey: name) else { return }
        try? certsForWriting.open().remove(name + "/" + entry.tempName)
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
        nondurableDirectories.remove(name)
        guard let directory = try certsForReading.subdirectory(name) else { return }
        for file in ["state.json", "pending-key.pem"] { try directory.remove(file) }
        // Temp files a crash or a stop left (a write-behind not flushed): never anyone's state.
        for entry in try directory.entries()
        where entry.hasPrefix(".state.json.tmp-") || entry.hasPrefix(".pending-key.pem.tmp-") {
            try directory.remove(entry)
        }
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

    /// `certs/NAME`, created 0700 (with `certs/` and the state directory) when missing, and durably there (a
    /// directory a write-behind created gets `certs/` fsynced first).
    private func writableDirectory(for name: String) throws -> DirectoryHandle {
        try StateName.validate(name, kind: "certificate name")
        let create = DirectoryCreation(mode: 0o700, owner: fileOwner)
        guard let directory = try certsForWriting.subdirectory(name, create: create) else {
            throw CertStoreError.io(operation: "create directory", path: certsDirectory + "/" + name, errno: ENOENT)
        }
        if nondurableDirectories.remove(name) != nil { try certsForWriting.open().sync() }
        return directory
    }
}
