#if canImport(Glibc)
    import Glibc
#endif

/// How ``SafePath`` and ``DirectoryHandle`` create a missing directory.
package struct DirectoryCreation: Sendable, Hashable {
    /// Whose the new directory is.
    package enum Ownership: Sendable, Hashable {
        /// The process's own user and group.
        case process
        /// The parent directory's owner and group, when the process runs as root (a webroot that belongs to a site
        /// owner stays theirs to manage); the process's own otherwise.
        case inheritFromParent
        /// A given user and group.
        case explicit(FileOwner)
    }

    /// The exact mode, set with `fchmod` after `mkdirat` (independent of the umask).
    package var mode: mode_t
    package var ownership: Ownership
    /// Whether the parent is fsynced after the new entry (false: the directory may be gone after a power loss, for
    /// contents that can be worked out again).
    package var durable = true

    package init(mode: mode_t, ownership: Ownership = .process) {
        self.mode = mode
        self.ownership = ownership
    }

    /// `mode`, owned by `owner` when one is given, by the process otherwise.
    package init(mode: mode_t, owner: FileOwner?) {
        self.init(mode: mode, ownership: owner.map { .explicit($0) } ?? .process)
    }
}
