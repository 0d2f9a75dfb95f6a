#if canImport(Glibc)
    import Glibc
#endif

/// A complete, fsynced temp file waiting to be renamed over its final name in the same directory (see
/// ``DirectoryHandle/stage(_:as:mode:owner:group:)``).
package struct StagedFile: Sendable {
    /// The directory both names are in, held open.
    package let directory: DirectoryHandle
    package let tempName: String
    package let finalName: String

    /// The temp file's path, for messages.
    package var tempPath: String { directory.pathOf(tempName) }
    /// Where ``commit()`` puts it.
    package var finalPath: String { directory.pathOf(finalName) }

    /// Renames the temp file over the final name (`renameat`) and fsyncs the directory (with `durable: false` not:
    /// the new name may be the old one again after a power loss).
    package func commit(durable: Bool = true) throws {
        guard renameat(directory.descriptor, tempName, directory.descriptor, finalName) == 0 else {
            let code = errno
            discard()
            throw FileSystemError.io(operation: "rename \(tempPath) to", path: finalPath, errno: code)
        }
        if durable { try directory.sync() }
    }

    /// Removes the temp file; the final name is untouched.
    package func discard() {
        unlinkat(directory.descriptor, tempName, 0)
    }
}
