import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A complete, fsynced temp file waiting to be renamed over its final path (see ``AtomicFile/stage(_:for:mode:owner:group:)``).
public struct StagedFile: Sendable, Hashable {
    /// The temp file, in the same directory as ``finalPath``.
    public let tempPath: String
    /// Where ``commit()`` puts it.
    public let finalPath: String

    /// Renames the temp file over the final path and fsyncs the directory.
    public func commit() throws {
        guard rename(tempPath, finalPath) == 0 else {
            let code = errno
            unlink(tempPath)
            throw CertStoreError.io(operation: "rename \(tempPath) to", path: finalPath, errno: code)
        }
        let directory = (finalPath as NSString).deletingLastPathComponent
        try AtomicFile.syncDirectory(directory.isEmpty ? "." : directory)
    }

    /// Removes the temp file; the final path is untouched.
    public func discard() {
        unlink(tempPath)
    }
}
