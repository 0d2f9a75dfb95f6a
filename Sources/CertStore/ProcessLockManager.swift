import Foundation
import SafeFiles

#if canImport(Glibc)
    import Glibc
#endif

/// ``LockManager`` for the file store: an in-process async mutex per name plus an `flock(2)` on
/// `STATE_DIR/locks/<name>.lock`, so two daemons (or a daemon and a CLI command) on one state directory never work
/// on the same account or certificate at once.
///
/// The flock is tried non-blocking and retried every `pollInterval` until `maxWait` has passed, then
/// ``CertStoreError/lockBusy(name:path:waited:)`` is thrown. Lock files are left in place (removing them would
/// race with other processes).
package struct ProcessLockManager: LockManager {
    /// The state directory; `locks/` is created inside it (0700).
    package let stateDirectory: String
    /// How long to wait for another process's lock before giving up.
    package let maxWait: Duration
    /// How often to retry the flock while another process holds it.
    package let pollInterval: Duration
    private let mutex = NamedAsyncMutex()
    /// `locks/`, held open (created 0700 on first use).
    private let locksDirectory: CachedDirectory
    /// The state directory's owner when we run as root and it is another user's.
    private let fileOwner: FileOwner?

    package init(stateDirectory: String, maxWait: Duration = .seconds(60), pollInterval: Duration = .milliseconds(200))
    {
        self.stateDirectory = stateDirectory
        self.maxWait = maxWait
        self.pollInterval = pollInterval
        let owner = FileOwner.forFiles(in: stateDirectory)
        self.fileOwner = owner
        self.locksDirectory = CachedDirectory(
            stateDirectory + "/locks", create: DirectoryCreation(mode: 0o700, owner: owner))
    }

    package func withLock<T: Sendable>(_ name: String, _ body: @Sendable () async throws -> T) async throws -> T {
        try StateName.validate(name, kind: "lock name")
        await mutex.acquire(name)
        let fd: Int32
        do {
            fd = try await lockFile(name)
        } catch {
            await mutex.release(name)
            throw error
        }
        do {
            let result = try await body()
            close(fd)  // closing the descriptor drops the flock
            await mutex.release(name)
            return result
        } catch {
            close(fd)
            await mutex.release(name)
            throw error
        }
    }

    private func lockFile(_ name: String) async throws -> Int32 {
        let path = stateDirectory + "/locks/" + name + ".lock"
        // Opening (and a first mkdir) can block on a hung file system: not on the event loops.
        let fd = try await BlockingIO.run { [locksDirectory, fileOwner] () throws -> Int32 in
            let directory = try locksDirectory.open()
            let fd = openat(directory.descriptor, name + ".lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0o600)
            guard fd >= 0 else { throw CertStoreError.io(operation: "open lock file", path: path, errno: errno) }
            // Run as root beside a daemon running as the state directory's owner: the lock file must stay its.
            if let owner = fileOwner { _ = fchown(fd, owner.uid, owner.gid) }
            return fd
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: maxWait)
        while true {
            let code = await BlockingIO.run { () -> Int32 in flock(fd, LOCK_EX | LOCK_NB) == 0 ? 0 : errno }
            if code == 0 { return fd }
            guard code == EWOULDBLOCK || code == EINTR else {
                close(fd)
                throw CertStoreError.io(operation: "flock", path: path, errno: code)
            }
            guard clock.now < deadline else {
                close(fd)
                throw CertStoreError.lockBusy(name: name, path: path, waited: maxWait)
            }
            do {
                try await Task.sleep(for: pollInterval)
            } catch {
                close(fd)
                throw error
            }
        }
    }
}
