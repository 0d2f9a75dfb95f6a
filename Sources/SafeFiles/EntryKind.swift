#if canImport(Glibc)
    import Glibc
#endif

/// What a directory entry is, read with `fstatat(AT_SYMLINK_NOFOLLOW)`.
package enum EntryKind: Sendable, Hashable {
    case missing
    case regular
    case directory
    case symlink
    /// A FIFO, device or socket.
    case special(String)

    init(mode: mode_t) {
        switch mode & S_IFMT {
        case S_IFREG: self = .regular
        case S_IFDIR: self = .directory
        case S_IFLNK: self = .symlink
        case S_IFIFO: self = .special("FIFO")
        case S_IFCHR: self = .special("character device")
        case S_IFBLK: self = .special("block device")
        case S_IFSOCK: self = .special("socket")
        default: self = .special("special file")
        }
    }

    /// A word for messages.
    package var description: String {
        switch self {
        case .missing: return "missing file"
        case .regular: return "regular file"
        case .directory: return "directory"
        case .symlink: return "symbolic link"
        case .special(let kind): return kind
        }
    }
}
