import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``LockManager`` for the file store: an in-process async mutex per lock byte plus an open-file-description lock on
/// that byte of `STATE_DIR/locks/names.lock` (``ByteRangeLockFile``), so two daemons (or a daemon and a CLI command) on
/// one state directory never work on the same account or certificate at once.
///
/// The byte is tried non-blocking and retried every `pollInterval` until `maxWait` has passed, then
/// ``CertStoreError/lockBusy(name:path:waited:)`` is thrown. Earlier builds locked a file per name
/// (`locks/NAME.lock`, `flock`): those files are no longer looked at, and an older certkeeper running on the same
/// state directory at the same time would not be excluded (docs/state-layout.md).
package struct ProcessLockManager: LockManager {
    /// The state directory; `locks/` is created inside it (0700).
    package let stateDirectory: String
    /// How long to wait for another process's lock before giving up.
    package let maxWait: Duration
    /// How often to retry the lock while another process holds it.
    package let pollInterval: Duration
    /// Held per lock byte, not per name: names whose bytes collide share one open file description's lock.
    private let mutex = NamedAsyncMutex()
    private let file: ByteRangeLockFile

    package init(stateDirectory: String, maxWait: Duration = .seconds(60), pollInterval: Duration = .milliseconds(200))
    {
        self.stateDirectory = stateDirectory
        self.maxWait = maxWait
        self.pollInterval = pollInterval
        let owner = FileOwner.forFiles(in: stateDirectory)
        // `locks/`, held open (created 0700 on first use).
        let directory = CachedDirectory(stateDirectory + "/locks", create: DirectoryCreation(mode: 0o700, owner: owner))
        self.file = ByteRangeLockFile(directory: directory, fileName: "names.lock", owner: owner)
    }

    /// The lock file every name is a byte of.
    package var lockFilePath: String { file.path }

    package func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try StateName.validate(name, kind: "lock name")
        let offset = ByteRangeLockFile.offset(of: name)
        let key = String(offset)
        await mutex.acquire(key)
        let held: ByteRangeLockFile.Held
        do {
            held = try await lock(name, offset: offset)
        } catch {
            await mutex.release(key)
            throw error
        }
        do {
            let result = try await body()
            file.unlock(held)
            await mutex.release(key)
            return result
        } catch {
            file.unlock(held)
            await mutex.release(key)
            throw error
        }
    }

    private func lock(_ name: String, offset: Int64) async throws -> ByteRangeLockFile.Held {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: maxWait)
        while true {
            // Opening (and a first mkdir) can block on a hung file system: not on the event loops.
            if let held = try await BlockingIO.run({ [file] in try file.tryLock(offset) }) { return held }
            guard clock.now < deadline else {
                throw CertStoreError.lockBusy(name: name, path: file.path, waited: maxWait)
            }
            try await Task.sleep(for: pollInterval)
        }
    }
}
