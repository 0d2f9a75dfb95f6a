import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A directory of certkeeper's own (under the state directory) opened once through ``SafePath`` and reused while its
/// path still names the same directory.
///
/// Walking `/var/lib/certkeeper/certs` from `/` costs one `openat` and one `close` per component; a state file was
/// reached by about fifteen such walks per certificate and attempt (111 `openat` per certificate when 3,000 were
/// adopted at once). Each ``open()`` now costs one `stat` of the path: when it names the directory held open
/// (same device and inode) that handle is returned, otherwise (moved, deleted, replaced by a link) the path is walked
/// again with ``SafePath``'s rules and the new handle kept. Files are then reached with `openat` relative to it.
package final class CachedDirectory: Sendable {
    package let path: String
    private let create: DirectoryCreation?
    private let held = Mutex<(handle: DirectoryHandle, device: UInt64, inode: UInt64)?>(nil)

    /// `create`: how to create the directory and its missing parents; nil when it must exist.
    package init(_ path: String, create: DirectoryCreation? = nil) {
        self.path = path
        self.create = create
    }

    /// The open directory (walked, and created when missing and `create` was given, on first use and whenever the
    /// path no longer names the directory held open).
    package func open() throws -> DirectoryHandle {
        var info = stat()
        if stat(path, &info) == 0, let current = held.withLock({ $0 }), current.device == UInt64(info.st_dev),
            current.inode == UInt64(info.st_ino)
        {
            return current.handle
        }
        let handle = try SafePath.openDirectory(path, create: create)
        let opened = try handle.status()
        held.withLock { $0 = (handle, UInt64(opened.st_dev), UInt64(opened.st_ino)) }
        return handle
    }

    /// The subdirectory `name` (one component, never a link), created when missing and `create` is given; nil when
    /// it is missing and may not be created.
    package func subdirectory(_ name: String, create: DirectoryCreation? = nil) throws -> DirectoryHandle? {
        do {
            return try open().openSubdirectory(name, create: create)
        } catch let error as FileSystemError where create == nil && error.errno == ENOENT {
            return nil
        }
    }
}
