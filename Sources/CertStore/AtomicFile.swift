import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Crash-safe file replacement: temp file in the same directory, write, chown/chmod, fsync, rename, fsync directory.
///
/// A reader sees either the complete old file or the complete new one, never a mix, and the new file never
/// exists under its final name with a looser mode or owner than requested. On any failure the previous file is
/// untouched and the temp file removed.
public enum AtomicFile {
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
    public static func write(
        _ bytes: some Sequence<UInt8>, to path: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil,
        beforeRename: (@Sendable () throws -> Void)? = nil
    ) throws {
        let staged = try stage(bytes, for: path, mode: mode, owner: owner, group: group)
        do {
            try beforeRename?()
            try staged.commit()
        } catch {
            staged.discard()
            throw error
        }
    }

    /// Writes a complete, fsynced temp file next to `path` without touching `path` yet.
    ///
    /// Call ``StagedFile/commit()`` to rename it into place or ``StagedFile/discard()`` to remove it. Staging several
    /// files first and committing them together keeps the window in which a reader sees a mix as small as a rename.
    public static func stage(
        _ bytes: some Sequence<UInt8>, for path: String, mode: mode_t, owner: uid_t? = nil, group: gid_t? = nil
    ) throws -> StagedFile {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        let tempPath = (directory.isEmpty ? "." : directory) + "/.\(base).tmp-\(randomSuffix())"
        let fd = open(tempPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw CertStoreError.io(operation: "create", path: tempPath, errno: errno) }
        do {
            try writeAll(fd: fd, bytes: Array(bytes), path: tempPath)
            if owner != nil || group != nil {
                // fchown first: it may clear mode bits, so the explicit fchmod comes after it.
                guard fchown(fd, owner ?? uid_t.max, group ?? gid_t.max) == 0 else {
                    throw CertStoreError.io(operation: "chown", path: tempPath, errno: errno)
                }
            }
            guard fchmod(fd, mode) == 0 else {
                throw CertStoreError.io(operation: "chmod", path: tempPath, errno: errno)
            }
            guard fsync(fd) == 0 else { throw CertStoreError.io(operation: "fsync", path: tempPath, errno: errno) }
            guard close(fd) == 0 else { throw CertStoreError.io(operation: "close", path: tempPath, errno: errno) }
        } catch {
            close(fd)
            unlink(tempPath)
            throw error
        }
        return StagedFile(tempPath: tempPath, finalPath: path)
    }

    /// Creates `path` and any missing parents with `mode` (independent of the umask).
    ///
    /// Existing directories keep their mode. Throws when `path` exists and is not a directory.
    public static func ensureDirectory(_ path: String, mode: mode_t) throws {
        var info = stat()
        if stat(path, &info) == 0 {
            guard (info.st_mode & S_IFMT) == S_IFDIR else {
                throw CertStoreError.io(operation: "use as directory", path: path, errno: ENOTDIR)
            }
            return
        }
        let parent = (path as NSString).deletingLastPathComponent
        if !parent.isEmpty && parent != path { try ensureDirectory(parent, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST {
            throw CertStoreError.io(operation: "mkdir", path: path, errno: errno)
        }
        guard chmod(path, mode) == 0 else { throw CertStoreError.io(operation: "chmod", path: path, errno: errno) }
        try syncDirectory(parent.isEmpty ? "." : parent)
    }

    /// Flushes a directory's entries (new names, renames) to disk.
    public static func syncDirectory(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw CertStoreError.io(operation: "open directory", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw CertStoreError.io(operation: "fsync directory", path: path, errno: errno) }
    }

    /// Reads a whole file, or returns nil when it does not exist.
    public static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw CertStoreError.io(operation: "open", path: path, errno: errno)
        }
        defer { close(fd) }
        var result: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw CertStoreError.io(operation: "read", path: path, errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: buffer[0..<count])
        }
        return result
    }

    static func randomSuffix() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(generator.next() as UInt64, radix: 36)
    }

    private static func writeAll(fd: Int32, bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { raw in
                Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw CertStoreError.io(operation: "write", path: path, errno: errno)
            }
            offset += written
        }
    }
}
