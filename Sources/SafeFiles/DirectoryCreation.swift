#if canImport(Glibc)
    import Glibc
#endif

/// How ``SafePath`` and ``DirectoryHandle`` create a missing directory.
public struct DirectoryCreation: Sendable, Hashable {
    /// Whose the new directory is.
    public enum Ownership: Sendable, Hashable {
        /// The process's own user and group.
        case process
        /// The parent directory's owner and group, when the process runs as root (a webroot that belongs to a site
        /// owner stays theirs to manage); the process's own otherwise.
        case inheritFromParent
        /// A given user and group.
        case explicit(FileOwner)
    }

    /// The exact mode, set with `fchmod` after `mkdirat` (independent of the umask).
    public var mode: mode_t
    public var ownership: Ownership

    public init(mode: mode_t, ownership: Ownership = .process) {
        self.mode = mode
        self.ownership = ownership
    }

    /// `mode`, owned by `owner` when one is given, by the process otherwise.
    public init(mode: mode_t, owner: FileOwner?) {
        self.init(mode: mode, ownership: owner.map { .explicit($0) } ?? .process)
    }
}
