import CFileSync
import Crypto
import SafeFiles
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One lock file whose bytes are the locks: the lock named `name` is an open-file-description lock (`fcntl`
/// `F_OFD_SETLK`) on the byte at ``offset(of:)``, a 62-bit digest of the name, so any number of names share one inode.
///
/// One file per name cost an inode each: adopting 9,000 certificates at a reload created 9,000 lock files (with an
/// `open`, a `fchown` and a `close` each), a third of the inodes `perf` found the reload spending its time on.
///
/// OFD locks belong to the open file description, not the process: another process (or another
/// ``ByteRangeLockFile``) conflicts, the same description never does, so callers exclude one another within the
/// description themselves (``ProcessLockManager`` does, per byte). They are dropped when the description is closed,
/// so a crashed holder frees its locks. The file is held open while its path still names it (one `stat` per lock);
/// a replaced or deleted file is opened again by the path, and the old descriptor closed once nothing is held on it.
package final class ByteRangeLockFile: Sendable {
    /// The lock file's path, for errors.
    package let path: String
    private let fileName: String
    private let directory: CachedDirectory
    private let owner: FileOwner?
    /// Open descriptors by the file's identity, with how many bytes each holds; `current` is the one the path named
    /// at the last lock.
    private let open = Mutex<OpenFiles>(OpenFiles())

    fileprivate struct FileID: Hashable, Sendable {
        var device: UInt64
        var inode: UInt64
    }

    private struct OpenFiles {
        var descriptors: [FileID: (fd: Int32, holds: Int)] = [:]
        var current: FileID?
    }

    /// A byte held by ``tryLock(_:)``, for ``unlock(_:)``.
    package struct Held: Sendable {
        fileprivate var file: FileID
        fileprivate var fd: Int32
        package var offset: Int64
    }

    /// `directory`: where the file is (created with it when missing); `fileName`: its name there; `owner`: who a new
    /// file belongs to (the state directory's owner when running as root).
    package init(directory: CachedDirectory, fileName: String, owner: FileOwner?) {
        self.directory = directory
        self.fileName = fileName
        self.owner = owner
        self.path = directory.path + "/" + fileName
    }

    /// The byte that stands for `name`: the first 62 bits of its SHA-256 (a lock byte may lie anywhere below
    /// `OFF_MAX`; two names share one only by a digest collision, which makes them wait for each other, nothing worse).
    package static func offset(of name: String) -> Int64 {
        let digest = SHA256.hash(data: Array(name.utf8))
        let value = digest.withUnsafeBytes { bytes in bytes.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } }
        return Int64(value >> 2)
    }

    /// Takes the byte without waiting: the lock, or nil when another open file description holds it. Blocking
    /// file-system calls: run it off the event loops.
    package func tryLock(_ offset: Int64) throws -> Held? {
        let (file, fd) = try descriptor()
        if certkeeper_ofd_lock_byte(fd, offset, 1) == 0 { return Held(file: file, fd: fd, offset: offset) }
        let code = errno
        release(file)
        guard code == EAGAIN || code == EACCES || code == EINTR else {
            throw CertStoreError.io(operation: "lock (fcntl F_OFD_SETLK)", path: path, errno: code)
        }
        return nil
    }

    /// Drops a byte ``tryLock(_:)`` took.
    package func unlock(_ held: Held) {
        _ = certkeeper_ofd_lock_byte(held.fd, held.offset, 0)
        release(held.file)
    }

    /// The descriptor of the file the path names now (opened, and created 0600 when missing, if not held yet),
    /// counted as holding one more byte.
    private func descriptor() throws -> (FileID, Int32) {
        var info = stat()
        let handle = try directory.open()
        // Not following a link, as the open below does not.
        if fstatat(handle.descriptor, fileName, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            let id = FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            let reused = open.withLock { files -> Int32? in
                guard let entry = files.descriptors[id] else { return nil }
                files.descriptors[id] = (entry.fd, entry.holds + 1)
                files.current = id
                return entry.fd
            }
            if let reused { return (id, reused) }
        }
        let fd = openat(handle.descriptor, fileName, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0o600)
        guard fd >= 0 else { throw CertStoreError.io(operation: "open lock file", path: path, errno: errno) }
        // Run as root beside a daemon running as the state directory's owner: the lock file must stay its.
        if let owner { _ = fchown(fd, owner.uid, owner.gid) }
        guard fstat(fd, &info) == 0 else {
            let code = errno
            close(fd)
            throw CertStoreError.io(operation: "stat lock file", path: path, errno: code)
        }
        let id = FileID(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
        let (kept, surplus) = open.withLock { files -> (Int32, [Int32]) in
            files.current = id
            // Files the path no longer names and nothing is held on: closed now (a later release closes the others).
            let replaced = files.descriptors.filter { $0.key != id && $0.value.holds == 0 }
            for old in replaced.keys { files.descriptors[old] = nil }
            let closing = replaced.values.map(\.fd)
            if let entry = files.descriptors[id] {  // another thread opened it meanwhile
                files.descriptors[id] = (entry.fd, entry.holds + 1)
                return (entry.fd, closing + [fd])
            }
            files.descriptors[id] = (fd, 1)
            return (fd, closing)
        }
        for descriptor in surplus { close(descriptor) }
        return (id, kept)
    }

    /// One byte fewer held on `file`; a file the path no longer names is closed when it holds none.
    private func release(_ file: FileID) {
        let closing = open.withLock { files -> Int32? in
            guard let entry = files.descriptors[file] else { return nil }
            if entry.holds <= 1, files.current != file {
                files.descriptors[file] = nil
                return entry.fd
            }
            files.descriptors[file] = (entry.fd, entry.holds - 1)
            return nil
        }
        if let closing { close(closing) }
    }
}
