#if canImport(Glibc)
    import Glibc
#endif

/// Why a file operation of ``DirectoryHandle`` or ``SafePath`` was refused or failed.
///
/// Every case names the path concerned and says what to do; none carries file content.
package enum FileSystemError: Error, Sendable, Hashable, CustomStringConvertible {
    /// A system call failed on `path`.
    case io(operation: String, path: String, errno: Int32)
    /// `path` is a symbolic link in `directory`, which a user other than root and certkeeper's own can change.
    case symlinkRefused(path: String, directory: String)
    /// `path` exists and is not a regular file (`kind`: "FIFO", "device", "socket", "directory").
    case notRegularFile(path: String, kind: String)
    /// A component of the path exists and is not a directory.
    case notDirectory(path: String)
    /// The file at `path` is larger than certkeeper reads.
    case tooLarge(path: String, limit: Int)
    /// Resolving `path` met more than 40 symbolic links.
    case tooManySymlinks(path: String)
    /// An owner name that is neither a known user nor a numeric uid.
    case unknownUser(String)
    /// A group name that is neither a known group nor a numeric gid.
    case unknownGroup(String)

    package var description: String {
        switch self {
        case .io(let operation, let path, let code):
            return "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .symlinkRefused(let path, let directory):
            return
                "\(path) is a symbolic link in \(directory), which a user other than root or certkeeper's can change; certkeeper does not follow such links: use the real path, or make the directory writable by root only"
        case .notRegularFile(let path, let kind):
            return "\(path) is a \(kind), not a regular file; remove it so certkeeper can write a file there"
        case .notDirectory(let path):
            return "\(path) is not a directory; check the configured path"
        case .tooLarge(let path, let limit):
            return "\(path) is larger than \(limit) bytes, too large to be a key or certificate; check the path"
        case .tooManySymlinks(let path):
            return "\(path): too many levels of symbolic links; check for a loop"
        case .unknownUser(let user):
            return "unknown user \"\(user)\": create it or give a numeric uid"
        case .unknownGroup(let group):
            return "unknown group \"\(group)\": create it or give a numeric gid"
        }
    }

    /// The `errno` behind an ``io(operation:path:errno:)`` failure, nil for the other cases.
    package var errno: Int32? {
        if case .io(_, _, let code) = self { return code }
        return nil
    }
}
