#if canImport(Glibc)
    import Glibc
#endif

/// Crash-safe file replacement by path: temp file in the same directory, write, chown/chmod, fsync, rename, fsync
/// directory, all through directory descriptors resolved by ``SafePath``.
///
/// A reader sees either the complete old file or the complete new one, never a mix, and the new file never
/// exists under its final name with a looser mode or owner than requested. On any failure the previous file is
/// untouched and the temp file removed.
package enum AtomicFile {
    /// Largest file ``read(_:)`` returns: state files, keys and certificates are a few kilobytes.
    package static let maxReadSize = 16 << 20

    /// Replaces `path` with `bytes` atomically.
    ///
    /// - Parameters:
    ///   - bytes: the new content.
    ///   - path: the final path; its directory must exist.
    ///   - mode: permission bits set with `fchmod` (independent of the umask).
    ///   - owner: uid to `fchown` to, or nil to keep the process's.
    ///   - group: gid to `fchown` to, or nil to keep the process's.
    ///   - beforeRename: a test seam called after the temp file is complete and before the rename; throwing from it
    ///     behaves like a crash at that point (the temp file is removed, the old file kept).
    package static func write(
        _ bytes: some Sequence<UInt8>, to path: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil,
        beforeRename: (@Sendable () throws -> Void)? = nil
    ) throws {
        let (directory, name) = try SafePath.parent(of: path)
        try directory.write(bytes, as: name, mode: mode, owner: owner, group: group, beforeRename: beforeRename)
    }

    /// ``write(_:to:mode:owner:group:beforeRename:)`` owned by `fileOwner` when one is given.
    package static func write(_ bytes: some Sequence<UInt8>, to path: String, mode: mode_t, fileOwner: FileOwner?)
        throws
    {
        try write(bytes, to: path, mode: mode, owner: fileOwner?.uid, group: fileOwner?.gid)
    }

    /// Writes a complete, fsynced temp file next to `path` without touching `path` yet.
    ///
    /// Call ``StagedFile/commit()`` to rename it into place or ``StagedFile/discard()`` to remove it. Staging several
    /// files first and committing them together keeps the window in which a reader sees a mix as small as a rename.
    package static func stage(
        _ bytes: some Sequence<UInt8>, for path: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil
    ) throws -> StagedFile {
        let (directory, name) = try SafePath.parent(of: path)
        try directory.checkReplaceable(name)
        return try directory.stage(bytes, as: name, mode: mode, owner: owner, group: group)
    }

    /// Creates `path` and any missing parents with `mode` (independent of the umask, set through each new
    /// directory's descriptor).
    ///
    /// Existing directories keep their mode and owner. Throws when `path` exists and is not a directory.
    /// New directories belong to `owner` when one is given.
    package static func ensureDirectory(_ path: String, mode: mode_t, owner: FileOwner? = nil) throws {
        _ = try SafePath.openDirectory(path, create: DirectoryCreation(mode: mode, owner: owner))
    }

    /// Flushes a directory's entries (new names, renames) to disk.
    package static func syncDirectory(_ path: String) throws {
        try SafePath.openDirectory(path).sync()
    }

    /// Reads a whole regular file (at most ``maxReadSize`` bytes), or returns nil when it does not exist.
    package static func read(_ path: String) throws -> [UInt8]? {
        try SafePath.readFile(path, maxSize: maxReadSize)
    }
}
